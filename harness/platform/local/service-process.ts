import { spawn, type ChildProcess } from 'node:child_process';
import { HarnessError } from '../../core/errors.js';
import type { EventSink } from '../../core/journal.js';
import { PROJECT_ROOT, harnessEntry } from '../../core/paths.js';
import type { Endpoint, FrontService } from './service.js';
import type { ServiceCommand, ServiceMessage } from './service-protocol.js';

const ENTRY = harnessEntry('./service-main', import.meta.url);
const START_TIMEOUT_MS = 15_000;

/**
 * The harness side of the Service process: journals every endpoint change (the instant the
 * change is sent; the process applies it within the IPC hop) and stops the process on close.
 */
export class ServiceProcess implements FrontService {
  private child?: ChildProcess;
  private readonly endpoints = new Set<string>();
  private seq = 0;

  constructor(private readonly journal: EventSink) {}

  /** The process, once start() has been called (start spawns it before its first await). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  async start(): Promise<number> {
    const child = spawn(process.execPath, ENTRY.args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], detached: true });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString('utf8')).slice(-2000)));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new HarnessError(`service process did not listen within ${START_TIMEOUT_MS}ms`)), START_TIMEOUT_MS);
      child.on('message', (msg: ServiceMessage) => {
        if (msg.event === 'listening') {
          clearTimeout(timer);
          resolve(msg.port);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new HarnessError(`service process exited (code ${code}) before listening\n${stderr}`));
      });
    });
  }

  add(endpoint: Endpoint): void {
    if (this.endpoints.has(endpoint.name)) return;
    this.endpoints.add(endpoint.name);
    this.send({ op: 'add', seq: ++this.seq, name: endpoint.name, port: endpoint.port });
    this.journal.record({ source: 'platform', type: 'replica.joined-service', target: endpoint.name, detail: { endpoints: this.endpoints.size } });
  }

  remove(name: string, reason: string): void {
    if (!this.endpoints.delete(name)) return;
    this.send({ op: 'remove', seq: ++this.seq, name });
    this.journal.record({ source: 'platform', type: 'replica.left-service', target: name, detail: { reason, endpoints: this.endpoints.size } });
  }

  async close(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  private send(cmd: ServiceCommand): void {
    if (this.child?.connected) this.child.send(cmd);
  }
}
