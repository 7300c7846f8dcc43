import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** How to start one replica: the local counterpart of a pod template. */
export interface ReplicaTemplate {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** Bound on the time from spawn to the "listening" line. */
  startTimeoutMs: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const TAIL_BYTES = 4096;

/**
 * One replica process. It reports its port with a `{"event":"listening","port":N}` line on
 * stdout; it is started with an IPC channel so it shuts down if the harness dies.
 */
export class ReplicaProcess {
  readonly listening: Promise<number>;
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private tail = '';
  private log?: WriteStream;
  private done = false;

  constructor(readonly name: string, template: ReplicaTemplate, logDir?: string) {
    this.child = spawn(template.command, template.args, {
      cwd: template.cwd,
      env: { ...template.env, REPLICA_NAME: name },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // Own process group: a terminal's Ctrl-C reaches only the harness, which stops replicas in order.
      detached: true,
    });
    if (logDir) this.log = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
    this.child.stderr?.on('data', (chunk: Buffer) => this.keep(chunk));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.done = true;
        this.log?.end();
        resolve({ code, signal });
      });
    });
    this.listening = this.waitListening(template.startTimeoutMs);
    // A replica that never says it is listening still exits through `exited`; avoid unhandled noise.
    this.listening.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.done;
  }

  kill(signal: NodeJS.Signals): boolean {
    return !this.done && this.child.kill(signal);
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
