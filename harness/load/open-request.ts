import type { Http1Handler } from './http1.js';
import type { HttpRequestSpec } from './workload.js';

export interface OpenRequestOwner {
  /** True when the body of this response must be kept (a 2xx write). */
  keepsBody(request: OpenRequest): boolean;
  completed(request: OpenRequest): void;
  failed(request: OpenRequest, err: Error): void;
}

/**
 * One outstanding request of the open model and its handler in the lean HTTP/1.1 client
 * (http1.ts). Instances are pooled and reused, so the hot path allocates nothing of its own.
 */
export class OpenRequest implements Http1Handler {
  /** Refilled in place by the workload for every use. */
  readonly spec: HttpRequestSpec = { method: 'GET', path: '/', body: undefined, headers: {} };
  /** Where the client holds it (its FIFO or a connection), null when it does not. */
  slot: object | number | null = null;
  op = 0;
  /** The pool value the request's path picked first (its entity), or null. */
  picked: string | null = null;
  intendedMs = 0;
  status = 0;
  /** True once its outcome was reported (late callbacks after a forced timeout are ignored). */
  settled = true;
  /** True while the client holds it (dispatched, no onComplete/onError yet): it cannot be reused then. */
  dispatched = false;
  /** The owner keeps this response's body (decided once its status is known). */
  keepsBody = false;
  private readonly chunks: Buffer[] = [];

  constructor(private readonly owner: OpenRequestOwner) {}

  /** Arms the request for a new arrival. */
  arm(op: number, picked: string | null, intendedMs: number): void {
    this.op = op;
    this.picked = picked;
    this.intendedMs = intendedMs;
    this.status = 0;
    this.settled = false;
    this.dispatched = true;
    this.keepsBody = false;
    this.chunks.length = 0;
  }

  onHeaders(statusCode: number): boolean {
    this.status = statusCode;
    this.keepsBody = this.owner.keepsBody(this);
    return this.keepsBody;
  }

  onData(chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onComplete(): void {
    this.owner.completed(this);
  }

  onError(err: Error): void {
    this.owner.failed(this, err);
  }

  /** The kept response body (only for requests whose body was kept). */
  bodyText(): string {
    const text = this.chunks.length === 1 ? (this.chunks[0] as Buffer).toString('utf8') : Buffer.concat(this.chunks).toString('utf8');
    this.chunks.length = 0;
    return text;
  }
}
