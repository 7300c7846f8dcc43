import type { Clock } from '../core/clock.js';
import { ActivityProbe, type DatabaseActivity } from './pg-activity.js';
import { POOL_GAUGES } from './prometheus.js';
import { probeReplica, type ReplicaProbeName, type ReplicaResources, type ReplicaTarget } from './replica-probe.js';
import { SeriesBook, TOTAL, type ResourceSeries } from './series.js';
import { collectSnapshot, type ResourceSnapshot } from './snapshot.js';
import { errorMessage } from './timeout.js';

/** Reads one replica's resources; never rejects (a failed probe leaves its value null, see ReplicaResources). */
export type ProbeReplica<T> = (replica: T, timeoutMs: number) => Promise<ReplicaResources>;

export interface ResourceSamplerOptions<T extends { name: string } = ReplicaTarget> {
  /** The replicas right now (names change as replicas are replaced). */
  replicas: () => T[];
  /** How a replica is probed: the platform's probe (Deployment.resources); default /proc and /metrics by pid and port. */
  probe?: ProbeReplica<T>;
  databaseUrl: string;
  clock: Clock;
  /** Default 1000. */
  intervalMs?: number;
  /** Bound on each probe; default 80 % of the interval. */
  probeTimeoutMs?: number;
  /** Bound on the ticks of one run; default a day's worth. */
  maxSamples?: number;
  /** Told about every failed probe (to journal it); must not throw. */
  onProbeFailure?: (failure: ProbeFailure) => void;
}

export interface ProbeFailure {
  tMs: number;
  probe: ReplicaProbeName | 'database';
  replica?: string;
  error: string;
}

/**
 * Samples resources once per interval on the run clock: per replica its pool gauges, RSS and
 * open fds (through the platform's probe; locally /metrics and /proc), and database sessions per replica (pg_stat_activity
 * by application_name) plus the total, over one database connection. A failed probe costs its
 * points for that tick, never the sampler.
 */
export class ResourceSampler<T extends { name: string } = ReplicaTarget> {
  private readonly book = new SeriesBook();
  private readonly activity: ActivityProbe;
  private readonly intervalMs: number;
  private readonly probeTimeoutMs: number;
  private controller: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private failures = 0;
  private readonly probe: ProbeReplica<T>;

  constructor(private readonly options: ResourceSamplerOptions<T>) {
    this.probe = options.probe ?? ((r, timeoutMs) => probeReplica(r as ReplicaTarget, timeoutMs));
    this.intervalMs = options.intervalMs ?? 1000;
    this.probeTimeoutMs = options.probeTimeoutMs ?? Math.round(this.intervalMs * 0.8);
    this.activity = new ActivityProbe(options.databaseUrl, this.probeTimeoutMs);
  }

  /** Starts sampling (the first sample now). Idempotent. */
  start(): void {
    if (this.controller) return;
    this.controller = new AbortController();
    this.loop = this.run(this.controller.signal);
  }

  /** Stops after the tick in flight and closes the database connection. Idempotent. */
  async stop(): Promise<void> {
    this.controller?.abort();
    await this.loop;
    await this.activity.close();
  }

  series(): ResourceSeries[] {
    return this.book.series();
  }

  get probeFailures(): number {
    return this.failures;
  }

  /** A forensic snapshot on the sampler's own connection (no new session is needed). */
  snapshot(): Promise<ResourceSnapshot> {
    return collectSnapshot(this.options.replicas(), this.activity, this.probeTimeoutMs, this.probe);
  }

  private async run(signal: AbortSignal): Promise<void> {
    const { clock } = this.options;
    const startMs = clock.now();
    const maxSamples = this.options.maxSamples ?? 86_400;
    for (let i = 0; i < maxSamples && !signal.aborted; i += 1) {
      await this.tick(clock.now());
      const nextMs = startMs + (i + 1) * this.intervalMs;
      await clock.sleep(Math.max(0, nextMs - clock.now()), signal);
    }
  }

  private async tick(tMs: number): Promise<void> {
    const replicas = this.safeReplicas(tMs);
    const [activity, ...resources] = await Promise.all([
      this.activity.read().catch((err: unknown) => this.fail({ tMs, probe: 'database', error: errorMessage(err) })),
      ...replicas.map((r) => this.probe(r, this.probeTimeoutMs)),
    ]);
    for (const r of resources) this.recordReplica(tMs, r as ReplicaResources);
    if (activity) this.recordDatabase(tMs, activity, replicas);
  }

  private safeReplicas(tMs: number): T[] {
    try {
      return this.options.replicas();
    } catch (err) {
      this.fail({ tMs, probe: 'database', error: `listing replicas failed: ${errorMessage(err)}` });
      return [];
    }
  }

  private recordReplica(tMs: number, r: ReplicaResources): void {
    if (r.rssBytes !== null) this.book.add('rss_bytes', r.name, tMs, r.rssBytes);
    if (r.openFds !== null) this.book.add('open_fds', r.name, tMs, r.openFds);
    for (const gauge of POOL_GAUGES) if (r.pool) this.book.add(gauge, r.name, tMs, r.pool[gauge]);
    for (const [probe, error] of Object.entries(r.errors)) this.fail({ tMs, probe: probe as ReplicaProbeName, replica: r.name, error });
  }

  private recordDatabase(tMs: number, activity: DatabaseActivity, replicas: T[]): void {
    for (const { name } of replicas) this.book.add('db_connections', name, tMs, activity.byApplication[name] ?? 0);
    this.book.add('db_connections', TOTAL, tMs, activity.total);
  }

  private fail(failure: ProbeFailure): undefined {
    this.failures += 1;
    try {
      this.options.onProbeFailure?.(failure);
    } catch {
      // a listener's bug must not stop the sampling
    }
    return undefined;
  }
}
