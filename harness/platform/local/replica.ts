import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { HandoffTarget } from './service.js';

/** How to start one replica: the local counterpart of a pod template. */
export interface ReplicaTemplate {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** Bound on the time from spawn to listening. */
  startTimeoutMs: number;
  /**
   * How the replica's port becomes known. `announce` (the Task API): it listens on PORT=0 and
   * prints `{"event":"listening","port":N}`, and gets an IPC channel so it exits with the harness.
   * `assign` (any app): the platform picks a free port, sets PORT, and the replica is listening
   * once that port accepts a connection; if the harness dies, the reaper stops its process group.
   */
  port?: 'announce' | 'assign';
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const TAIL_BYTES = 4096;
/** How often an `assign` replica's port is tried until it accepts. */
const CONNECT_POLL_MS = 20;

/**
 * One replica process, in its own process group: signals go to the whole group, as a container's
 * processes all die with it. Its port is announced on stdout or assigned (see ReplicaTemplate.port).
 */
export class ReplicaProcess {
  readonly listening: Promise<number>;
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private tail = '';
  private log?: WriteStream;
  private done = false;

  /** `assignedPort`: the port set as PORT for a template with `port: 'assign'`. */
  constructor(readonly name: string, template: ReplicaTemplate, logDir?: string, assignedPort?: number) {
    const assign = template.port === 'assign';
    if (assign && assignedPort === undefined) throw new Error(`${name}: a template with port 'assign' needs a port`);
    this.child = spawn(template.command, template.args, {
      cwd: template.cwd,
      env: { ...template.env, REPLICA_NAME: name, ...(assign ? { PORT: String(assignedPort) } : {}) },
      stdio: assign ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', 'ipc'],
      // Own process group: a terminal's Ctrl-C reaches only the harness, which stops replicas in order.
      detached: true,
    });
    if (logDir) this.log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
    this.child.stderr?.on('data', (chunk: Buffer) => this.keep(chunk));
    this.exited = new Promise((resolve) => {
      const finish = (exit: Exit): void => {
        if (this.done) return;
        this.done = true;
        // Whatever the leader left in its group (an app's own children) goes with it.
        this.signalGroup('SIGKILL');
        this.log?.end();
        resolve(exit);
      };
      this.child.once('exit', (code, signal) => finish({ code, signal }));
      // A command that cannot be started (ENOENT, EACCES) emits 'error' and never 'exit'.
      this.child.once('error', (err) => {
        this.keep(Buffer.from(`${template.command}: ${err.message}\n`));
        finish({ code: null, signal: null });
      });
    });
    if (assign) {
      this.child.stdout?.on('data', (chunk: Buffer) => this.log?.write(chunk));
      this.listening = this.waitConnectable(assignedPort as number, template.startTimeoutMs);
    } else {
      this.listening = this.waitListening(template.startTimeoutMs);
    }
    // A replica that never says it is listening still exits through `exited`; avoid unhandled noise.
    this.listening.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.done;
  }

  /** The replica as a target of handed-over connections: `announce` replicas, which have an IPC channel. */
  get handoff(): HandoffTarget | undefined {
    return this.child.channel ? this : undefined;
  }

  /** Writes `socket`'s handle to the replica's IPC channel; this side's copy stays open (see HandoffService). */
  handOff(message: object, socket: Socket, sent: (err: Error | null) => void): void {
    if (!this.child.connected) return process.nextTick(sent, new Error(`${this.name} has no IPC channel`));
    this.child.send(message, socket, { keepOpen: true }, sent);
  }

  kill(signal: NodeJS.Signals): boolean {
    return !this.done && this.signalGroup(signal);
  }

  /** The whole process group (the replica leads it: spawned detached). */
  private signalGroup(signal: NodeJS.Signals): boolean {
    const pid = this.child.pid;
    if (!pid) return false;
    try {
      process.kill(-pid, signal);
      return true;
    } catch {
      return false; // the group is gone
    }
  }

  /** SIGTERM, then SIGKILL after the grace period, as a pod's termination. */
  async terminate(graceMs: number): Promise<Exit> {
    if (this.done) return this.exited;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  stderrTail(): string {
    return this.tail;
  }

  private keep(chunk: Buffer): void {
    this.log?.write(chunk);
    this.tail = (this.tail + chunk.toString('utf8')).slice(-TAIL_BYTES);
  }

  /** Resolves once `port` accepts a TCP connection; rejects if the replica exits first or at the timeout. */
  private waitConnectable(port: number, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const deadline = performance.now() + timeoutMs;
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (err?: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err) reject(err);
        else resolve(port);
      };
      const attempt = (): void => {
        if (settled) return;
        if (performance.now() > deadline) return settle(new Error(`${this.name} did not listen on port ${port} within ${timeoutMs}ms`));
        const socket = connect({ host: '127.0.0.1', port });
        socket.once('connect', () => {
          socket.destroy();
          settle();
        });
        socket.once('error', () => {
          socket.destroy();
          if (!settled) timer = setTimeout(attempt, CONNECT_POLL_MS);
        });
      };
      attempt();
      void this.exited.then((exit) => settle(new Error(`${this.name} exited (code ${exit.code}, signal ${exit.signal}) before listening`)));
    });
  }

  private waitListening(timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const stdout = this.child.stdout;
      if (!stdout) return reject(new Error('replica has no stdout'));
      const lines = createInterface({ input: stdout });
      const timer = setTimeout(() => reject(new Error(`${this.name} did not listen within ${timeoutMs}ms`)), timeoutMs);
      lines.on('line', (line) => {
        this.log?.write(`${line}\n`);
        const port = listeningPort(line);
        if (port !== undefined) {
          clearTimeout(timer);
          resolve(port);
        }
      });
      void this.exited.then((exit) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (code ${exit.code}, signal ${exit.signal}) before listening`));
      });
    });
  }
}

function listeningPort(line: string): number | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const msg = JSON.parse(line) as { event?: unknown; port?: unknown };
    return msg.event === 'listening' && typeof msg.port === 'number' ? msg.port : undefined;
  } catch {
    return undefined;
  }
}
