import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HarnessError } from '../../core/errors.js';
import { PROJECT_ROOT } from '../../core/paths.js';
import { assertUpstream, type LatencyProxyOptions, type LatencyProxyStats } from './latency-proxy.js';
import type { LatencyProxyCommand, LatencyProxyMessage } from './latency-proxy-protocol.js';
import { networkDelayProblems, type NetworkDelay } from './network-delay.js';

const ENTRY = fileURLToPath(new URL('./latency-proxy-main.ts', import.meta.url));
const START_TIMEOUT_MS = 15_000;
const REPLY_TIMEOUT_MS = 5_000;

type Command = { op: 'set-delay'; delay: NetworkDelay } | { op: 'clear-delay' } | { op: 'stats' };

interface Pending {
  resolve: (msg: Extract<LatencyProxyMessage, { event: 'reply' }>) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * The harness side of a latency proxy process (latency-proxy-main.ts): the LatencyProxy API,
 * asynchronous. The process runs in its own process group (`pid` is the group to reap should the
 * harness die) and exits by itself when the harness's IPC channel closes.
 */
export class LatencyProxyProcess {
  private readonly pending = new Map<number, Pending>();
  private seq = 0;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.on('message', (msg: LatencyProxyMessage) => this.onMessage(msg));
    child.once('exit', () => this.rejectAll(new HarnessError('latency proxy process exited')));
  }

  static async start(options: Omit<LatencyProxyOptions, 'random'>): Promise<LatencyProxyProcess> {
    assertUpstream(options);
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, UPSTREAM_HOST: options.upstreamHost, UPSTREAM_PORT: String(options.upstreamPort) },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      detached: true,
    });
    const port = await listening(child);
    return new LatencyProxyProcess(child, port);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async setDelay(delay: NetworkDelay): Promise<void> {
    const problems = networkDelayProblems(delay);
    if (problems.length > 0) throw new RangeError(`invalid network delay: ${problems.join('; ')}`);
    await this.request({ op: 'set-delay', delay });
  }

  async clearDelay(): Promise<void> {
    await this.request({ op: 'clear-delay' });
  }

  async stats(): Promise<LatencyProxyStats> {
    const reply = await this.request({ op: 'stats' });
    if (!reply.stats) throw new HarnessError('latency proxy sent no stats');
    return reply.stats;
  }

  /** SIGTERM (the proxy closes every connection), SIGKILL after 3 s. Idempotent. */
  async close(): Promise<void> {
    const { child } = this;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  private request(cmd: Command): Promise<Extract<LatencyProxyMessage, { event: 'reply' }>> {
    return new Promise((resolve, reject) => {
      if (!this.child.connected) return reject(new HarnessError('latency proxy process is gone'));
      const seq = ++this.seq;
      const timer = setTimeout(() => {
        this.pending.delete(seq);
        reject(new HarnessError(`latency proxy did not answer ${cmd.op} within ${REPLY_TIMEOUT_MS}ms`));
      }, REPLY_TIMEOUT_MS);
      this.pending.set(seq, { resolve, reject, timer });
      this.child.send({ ...cmd, seq } satisfies LatencyProxyCommand);
    });
  }

  private onMessage(msg: LatencyProxyMessage): void {
    if (msg.event !== 'reply') return;
    const pending = this.pending.get(msg.seq);
    if (!pending) return;
    this.pending.delete(msg.seq);
    clearTimeout(pending.timer);
    if (msg.error !== undefined) pending.reject(new HarnessError(`latency proxy: ${msg.error}`));
    else pending.resolve(msg);
  }

  private rejectAll(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}

function listening(child: ChildProcess): Promise<number> {
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-2000)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new HarnessError(`latency proxy process did not listen within ${START_TIMEOUT_MS}ms`));
    }, START_TIMEOUT_MS);
    child.on('message', (msg: LatencyProxyMessage) => {
      if (msg.event !== 'listening') return;
      clearTimeout(timer);
      resolve(msg.port);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new HarnessError(`latency proxy process exited (code ${code}) before listening\n${stderr}`));
    });
  });
}
