import type { HttpRequestSpec } from './workload.js';

export interface OpenRequestOwner {
  /** True when the body of this response must be kept (a 2xx write). */
  keepsBody(request: OpenRequest): boolean;
  completed(request: OpenRequest): void;
  failed(request: OpenRequest, err: Error): void;
}

/**
 * One outstanding request of the open model and its undici dispatch handler (the classic
 * onConnect/onHeaders/onData/onComplete/onError interface, which undici uses without a wrapper).
 * Instances are pooled and reused, so the hot path allocates nothing of its own.
 */
export class OpenRequest {
  /** Passed to `dispatch` as its options; refilled in place for every use. */
  readonly spec: HttpRequestSpec = { method: 'GET', path: '/', body: undefined, headers: {} };
  op = 0;
  /** The pool value the request's path picked first (its entity), or null. */
  picked: string | null = null;
  intendedMs = 0;
  status = 0;
  /** True once its outcome was reported (late callbacks after a forced timeout are ignored). */
  settled = true;
  /** True while undici holds it (dispatched, no onComplete/onError yet): it cannot be reused then. */
  dispatched = false;
  /** Its deadline passed and it was reported as a timeout; undici is told to abort it. */
  expired = false;
  private abortFn: ((err?: Error) => void) | undefined;
  private keepBody = false;
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
    this.expired = false;
    this.abortFn = undefined;
    this.keepBody = false;
    this.chunks.length = 0;
  }

  /** Called by undici when the request is written to a connection (it may wait in the pool's queue before). */
  onConnect(abort: (err?: Error) => void): void {
    if (this.expired) abort();
    else this.abortFn = abort;
  }

  /** Gives up on the request: undici errors it at once if it is on a connection, or when it reaches one. */
  expire(): void {
    this.expired = true;
    const abort = this.abortFn;
    this.abortFn = undefined;
    abort?.();
  }

  onHeaders(statusCode: number): boolean {
    this.status = statusCode;
    this.keepBody = this.owner.keepsBody(this);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.keepBody) this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    this.owner.completed(this);
  }

  onError(err: Error): void {
    this.owner.failed(this, err);
  }

  /** The kept response body (only for requests whose body was kept). */
  bodyText(): string {
    const text = Buffer.concat(this.chunks).toString('utf8');
    this.chunks.length = 0;
    return text;
  }
}
