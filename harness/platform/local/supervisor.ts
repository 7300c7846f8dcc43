import { randomBytes } from 'node:crypto';
import type { Clock } from '../../core/clock.js';
import { HarnessError } from '../../core/errors.js';
import type { EventSink } from '../../core/journal.js';
import type { ProbePlan } from '../../scenario/plan.js';
import type { ReplicaStatus } from '../types.js';
import { freePort } from './free-port.js';
import { httpProbe } from './probe.js';
import type { Reaping } from './reaper.js';
import { ReplicaProcess, type ReplicaTemplate } from './replica.js';
import type { EndpointRegistry } from './service.js';

export interface SupervisorOptions {
  /** Replica names are `<app>-<run id>-<suffix>`, as a ReplicaSet names its pods. */
  app: string;
  replicas: number;
  probe: ProbePlan;
  /** The path both probes GET; default /health. */
  probePath?: string;
  /** A liveness probe restarts (replaces) a replica that keeps failing it; none when absent. */
  liveness?: ProbePlan;
  terminationGraceMs: number;
  template: ReplicaTemplate;
  logDir?: string;
  /** Bound on replacements in one run, so a crash-looping replica cannot loop forever. */
  maxReplacements?: number;
  /** Told of every replica's process group as it is spawned, and when it has exited. */
  reaping?: Reaping;
}

/** A local replica's status: the neutral one plus its process id and loopback port (local details). */
export interface LocalReplicaStatus extends ReplicaStatus {
  pid?: number;
  /** The replica's own port on loopback (bypassing the Service), once it listens. */
  port?: number;
}

interface Managed {
  proc: ReplicaProcess;
  status: LocalReplicaStatus;
  port?: number;
  successes: number;
  failures: number;
  timer?: NodeJS.Timeout;
  probing: boolean;
  /** Became ready at least once: its exit is a replica lost, not a failed start (no crash backoff). */
  everReady: boolean;
  /** The port the platform set as PORT (templates with `port: 'assign'`). */
  assignedPort?: number;
  liveness?: { timer?: NodeJS.Timeout; failures: number; probing: boolean; restarting: boolean };
}

const CRASH_BACKOFF_MS = [0, 1000, 2000, 4000, 8000, 10_000];
/** Tries at a free port no live replica holds, for templates with `port: 'assign'`. */
const PORT_TRIES = 20;

/**
 * ReplicaSet semantics for local processes: keeps `replicas` running, replaces any that dies,
 * and puts a replica behind the Service only while its readiness probe passes.
 */
export class Supervisor {
  private readonly managed = new Map<string, Managed>();
  private readonly hash = randomBytes(4).toString('hex').slice(0, 7);
  private stopping = false;
  private replacements = 0;
  private crashes = 0;
  private readonly pending = new Set<NodeJS.Timeout>();

  constructor(
    private readonly opts: SupervisorOptions,
    private readonly service: EndpointRegistry,
    private readonly journal: EventSink,
    private readonly clock: Clock,
  ) {}

  /** Starts the replicas; resolves when every one is ready, rejects (with its stderr) if one fails. */
  async start(timeoutMs: number): Promise<void> {
    const first: Managed[] = [];
    // One at a time, so that no two replicas are assigned the same free port.
    for (let i = 0; i < this.opts.replicas; i++) {
      const m = await this.launch();
      if (!m) throw new HarnessError('the supervisor stopped while starting replicas');
      first.push(m);
    }
    const deadline = this.clock.now() + timeoutMs;
    for (const m of first) {
      await m.proc.listening.catch((err: Error) => {
        throw new HarnessError(`replica ${m.status.name} failed to start: ${err.message}\n${m.proc.stderrTail()}`);
      });
    }
    while (this.statuses().filter((s) => s.ready).length < this.opts.replicas) {
      if (this.clock.now() > deadline) throw new HarnessError(`replicas not ready within ${timeoutMs}ms: ${this.describe()}`);
      await this.clock.sleep(10);
    }
  }

  statuses(): LocalReplicaStatus[] {
    return [...this.managed.values()].map((m) => ({ ...m.status }));
  }

  /** One live replica's status, or undefined once it is gone. */
  status(name: string): LocalReplicaStatus | undefined {
    const m = this.managed.get(name);
    return m ? { ...m.status } : undefined;
  }

  kill(name: string, signal: NodeJS.Signals): boolean {
    return this.managed.get(name)?.proc.kill(signal) ?? false;
  }

  /** SIGTERM now, SIGKILL after `graceMs` if it is still running; false if it was already gone. */
  terminate(name: string, graceMs: number): boolean {
    const m = this.managed.get(name);
    if (!m?.proc.alive) return false;
    void m.proc.terminate(graceMs);
    return true;
  }

  pids(): number[] {
    return [...this.managed.values()].flatMap((m) => (m.proc.pid ? [m.proc.pid] : []));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    await Promise.all(
      [...this.managed.values()].map(async (m) => {
        clearTimeout(m.timer);
        clearTimeout(m.liveness?.timer);
        this.service.remove(m.status.name, 'stopping');
        await m.proc.terminate(this.opts.terminationGraceMs);
      }),
    );
  }

  /** Spawns a replica, first picking its port when the platform assigns it; undefined once stopping. */
  private async launch(replaces?: string): Promise<Managed | undefined> {
    const port = this.opts.template.port === 'assign' ? await this.unusedPort() : undefined;
    if (this.stopping) return undefined;
    return this.spawn(replaces, port);
  }

  /** A loopback port free right now and not assigned to a live replica (a replica may not listen yet). */
  private async unusedPort(): Promise<number> {
    const taken = new Set([...this.managed.values()].flatMap((m) => (m.assignedPort === undefined ? [] : [m.assignedPort])));
    for (let i = 0; i < PORT_TRIES; i++) {
      const port = await freePort();
      if (!taken.has(port)) return port;
    }
    throw new HarnessError(`no free loopback port for a replica after ${PORT_TRIES} tries`);
  }

  private spawn(replaces?: string, assignedPort?: number): Managed {
    const name = `${this.opts.app}-${this.hash}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    const proc = new ReplicaProcess(name, this.opts.template, this.opts.logDir, assignedPort);
    // A replica exits by itself when the harness goes away, but only once its handler is installed.
    if (proc.pid) this.opts.reaping?.watchGroup(proc.pid, 'SIGKILL');
    // Phases as a pod's: the process is starting (ContainerCreating) until it listens (Running), then Ready.
    const status: LocalReplicaStatus = { name, ready: false, startedAtMs: this.clock.now(), phase: 'ContainerCreating', ...(replaces ? { replaces } : {}) };
    if (proc.pid) status.pid = proc.pid;
    const m: Managed = { proc, status, successes: 0, failures: 0, probing: false, everReady: false, ...(assignedPort !== undefined ? { assignedPort } : {}) };
    this.managed.set(name, m);
    this.journal.record({ source: 'platform', type: 'replica.started', target: name, detail: { pid: proc.pid ?? null, replaces: replaces ?? null } });
    proc.listening.then(
      (port) => {
        m.port = port;
        m.status.port = port;
        if (m.status.phase === 'ContainerCreating') m.status.phase = 'Running';
        this.journal.record({ source: 'platform', type: 'replica.listening', target: name, detail: { port } });
        // A first replica is probed the moment it listens (its initial delay past), its period counted
        // from then: nothing is measured before the platform is ready, and the run's first request
        // waits for it (up to a period lost otherwise). A replacement keeps the kubelet's rhythm from
        // its start: rto.platform measures it.
        if (!replaces && !m.status.ready && !this.stopping && this.clock.now() - m.status.startedAtMs >= this.opts.probe.initialDelayMs) {
          clearTimeout(m.timer);
          this.probe(m);
        }
      },
      () => undefined,
    );
    m.timer = setTimeout(() => this.probe(m), this.opts.probe.initialDelayMs);
    const liveness = this.opts.liveness;
    if (liveness) {
      m.liveness = { failures: 0, probing: false, restarting: false };
      m.liveness.timer = setTimeout(() => this.probeLiveness(m, liveness), liveness.initialDelayMs);
    }
    void proc.exited.then((exit) => this.onExit(m, exit.code, exit.signal));
    return m;
  }

  private probe(m: Managed): void {
    if (this.stopping || !m.proc.alive) return;
    m.timer = setTimeout(() => this.probe(m), this.opts.probe.periodMs);
    if (m.probing) return;
    m.probing = true;
    const result = m.port === undefined ? Promise.resolve(false) : httpProbe(m.port, this.opts.probePath ?? '/health', this.opts.probe.timeoutMs);
    void result.then((ok) => {
      m.probing = false;
      if (this.stopping || !m.proc.alive) return;
      this.onProbe(m, ok);
    });
  }

  private probeLiveness(m: Managed, plan: ProbePlan): void {
    const live = m.liveness;
    if (!live || this.stopping || !m.proc.alive || live.restarting) return;
    live.timer = setTimeout(() => this.probeLiveness(m, plan), plan.periodMs);
    if (live.probing || m.port === undefined) return;
    live.probing = true;
    void httpProbe(m.port, this.opts.probePath ?? '/health', plan.timeoutMs).then((ok) => {
      live.probing = false;
      live.failures = ok ? 0 : live.failures + 1;
      if (live.failures < plan.failureThreshold || live.restarting || this.stopping || !m.proc.alive) return;
      // As the kubelet does: a container failing its liveness probe is killed (TERM, then KILL after
      // the grace period) and a new one started in its place.
      live.restarting = true;
      clearTimeout(live.timer);
      this.journal.record({ source: 'platform', type: 'replica.liveness-failed', target: m.status.name, detail: { failures: live.failures } });
      void m.proc.terminate(this.opts.terminationGraceMs);
    });
  }

  private onProbe(m: Managed, ok: boolean): void {
    const { probe } = this.opts;
    m.successes = ok ? m.successes + 1 : 0;
    m.failures = ok ? 0 : m.failures + 1;
    const { name } = m.status;
    if (!m.status.ready && ok && m.successes >= probe.successThreshold && m.port !== undefined) {
      m.status.ready = true;
      m.everReady = true;
      m.status.readyAtMs = this.clock.now();
      m.status.phase = 'Ready';
      this.journal.record({ source: 'platform', type: 'replica.ready', target: name, atMs: m.status.readyAtMs, detail: { replaces: m.status.replaces ?? null } });
      this.service.add({ name, port: m.port, replica: m.proc.handoff });
    } else if (m.status.ready && !ok && m.failures >= probe.failureThreshold) {
      m.status.ready = false;
      m.status.phase = 'Running';
      this.journal.record({ source: 'platform', type: 'replica.not-ready', target: name, detail: { failures: m.failures } });
      this.service.remove(name, 'readiness probe failed');
    }
  }

  private onExit(m: Managed, code: number | null, signal: NodeJS.Signals | null): void {
    clearTimeout(m.timer);
    clearTimeout(m.liveness?.timer);
    const { name } = m.status;
    m.status.ready = false;
    this.managed.delete(name);
    if (m.proc.pid) this.opts.reaping?.forget({ pid: m.proc.pid });
    this.service.remove(name, 'terminated');
    this.journal.record({ source: 'platform', type: 'replica.exited', target: name, detail: { code, signal } });
    if (this.stopping) return;
    if (!m.everReady) this.crashes++;
    if (this.replacements >= (this.opts.maxReplacements ?? 100)) {
      this.journal.record({ source: 'platform', type: 'replica.replacement-limit', target: name, detail: { replacements: this.replacements } });
      return;
    }
    this.replacements++;
    const delay = CRASH_BACKOFF_MS[Math.min(m.everReady ? 0 : this.crashes, CRASH_BACKOFF_MS.length - 1)] ?? 0;
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      if (this.stopping) return;
      this.launch(name).catch((err: unknown) => {
        this.journal.record({ source: 'platform', type: 'replica.start-failed', target: name, detail: { error: (err as Error).message } });
      });
    }, delay);
    this.pending.add(timer);
  }

  private describe(): string {
    return [...this.managed.values()]
      .map((m) => `${m.status.name}: ${m.status.ready ? 'ready' : 'not ready'}${m.proc.alive ? '' : ' (exited)'}\n${m.proc.stderrTail()}`)
      .join('\n');
  }
}
