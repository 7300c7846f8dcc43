import { HarnessError } from '../core/errors.js';
import { guardedConnector } from '../load/loopback.js';
import type { HttpActionPlan, HttpFaultPlan } from '../scenario/plan.js';
import type { FaultContext, FaultInjector, FaultRecord } from './types.js';

/** How much of a response body is read (and discarded) before the connection is closed. */
const BODY_LIMIT_BYTES = 64 * 1024;

export interface RequestResult {
  status?: number;
  /** The status was one the action expects (any 2xx unless `expect.status` lists others). */
  ok: boolean;
  timedOut: boolean;
  /** Cut short because `signal` aborted. */
  interrupted: boolean;
  durationMs: number;
  /** A transport error (refused, reset, TLS…); never a header value or body. */
  error?: string;
}

/** What the journal may say about a URL: scheme, host, port and path; no user info, query or fragment. */
export function journalUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/**
 * Sends one request with undici on a connection of its own (closed afterwards), bounded by the
 * action's timeout, and reads at most BODY_LIMIT_BYTES of the answer. Redirects are not followed
 * (a redirect could lead past the host policy). Never rejects.
 */
export async function sendRequest(action: HttpActionPlan, signal?: AbortSignal): Promise<RequestResult> {
  // Loaded on first use: validation and reports, which know the fault kinds, never pay for undici.
  const { Agent, request } = await import('undici');
  const started = performance.now();
  const timeout = AbortSignal.timeout(action.timeoutMs);
  // The host policy again at the socket (validation checked the URL already), as for the load.
  const agent = new Agent({ connections: 1, pipelining: 0, connect: guardedConnector({ allowHosts: action.allowHosts ?? [] }, action.timeoutMs) });
  const result = (r: Omit<RequestResult, 'durationMs' | 'timedOut' | 'interrupted'>): RequestResult => ({
    ...r,
    timedOut: timeout.aborted,
    interrupted: !timeout.aborted && (signal?.aborted ?? false),
    durationMs: Math.round(performance.now() - started),
  });
  try {
    const res = await request(action.url, {
      method: action.method,
      headers: action.headers,
      ...(action.body !== undefined ? { body: action.body } : {}),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      dispatcher: agent,
    });
    await res.body.dump({ limit: BODY_LIMIT_BYTES });
    const ok = action.expectStatus ? action.expectStatus.includes(res.statusCode) : res.statusCode >= 200 && res.statusCode < 300;
    return result({ status: res.statusCode, ok });
  } catch (err) {
    const code = (err as { code?: string }).code;
    return result({ ok: false, error: code ?? (err as Error).name });
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}

function describe(r: RequestResult, action: HttpActionPlan): string {
  if (r.timedOut) return `got no answer within ${action.timeoutMs}ms`;
  if (r.error) return `failed (${r.error})`;
  const expected = action.expectStatus ? action.expectStatus.join(' or ') : '2xx';
  return `answered ${r.status}, expected ${expected}`;
}

/**
 * A fault made of two requests, like a fault proxy's or a feature-flag service's API: `inject` at
 * the fault's start, `recover` at its end (and on every exit path, whenever inject was sent, even
 * if it failed or was cut short). An unexpected status or a transport error fails the fault. The
 * journal records method, URL without query or user info, status and duration; never header
 * values or bodies (they may hold secrets).
 */
export class HttpFault implements FaultInjector<HttpFaultPlan> {
  private injectSent = false;
  private recovery?: Promise<void>;

  constructor(readonly plan: HttpFaultPlan) {}

  async apply(ctx: FaultContext, signal?: AbortSignal): Promise<FaultRecord[]> {
    const { inject } = this.plan;
    const target = journalUrl(inject.url);
    if (signal?.aborted) {
      ctx.journal.record({ source: 'fault', type: 'http.inject-skipped', target, fault: this.plan.name, detail: { reason: 'recovery started before the request was sent' } });
      return [];
    }
    this.injectSent = true;
    const result = await sendRequest(inject, signal);
    const detail = this.detail(inject, result);
    if (result.interrupted) {
      const e = ctx.journal.record({ source: 'fault', type: 'http.inject-interrupted', target, fault: this.plan.name, detail });
      return [{ target, appliedAtMs: e.atMs, detail: { interrupted: true } }];
    }
    if (!result.ok) {
      ctx.journal.record({ source: 'fault', type: 'http.inject-failed', target, fault: this.plan.name, detail });
      throw new HarnessError(`fault ${this.plan.name}: inject ${inject.method} ${target} ${describe(result, inject)}`);
    }
    const e = ctx.journal.record({ source: 'fault', type: 'http.injected', target, fault: this.plan.name, detail });
    return [{ target, appliedAtMs: e.atMs, detail: { status: result.status ?? null } }];
  }

  /** Sends `recover` once inject has been sent (never before), however often it is called; a failure is journalled and rejects every call. */
  recover(records: FaultRecord[], ctx: FaultContext): Promise<void> {
    if (this.injectSent) this.recovery ??= this.runRecover(ctx);
    return (this.recovery ?? Promise.resolve()).finally(() => {
      for (const r of records) r.recoveredAtMs ??= ctx.clock.now();
    });
  }

  private async runRecover(ctx: FaultContext): Promise<void> {
    const action = this.plan.recover;
    if (!action) return;
    const target = journalUrl(action.url);
    const result = await sendRequest(action);
    const detail = this.detail(action, result);
    if (!result.ok) {
      ctx.journal.record({ source: 'fault', type: 'http.recover-failed', target, fault: this.plan.name, detail });
      throw new HarnessError(`fault ${this.plan.name}: recover ${action.method} ${target} ${describe(result, action)}`);
    }
    ctx.journal.record({ source: 'fault', type: 'http.recovered', target, fault: this.plan.name, detail });
  }

  private detail(action: HttpActionPlan, r: RequestResult): Record<string, string | number | boolean | null> {
    return {
      method: action.method,
      url: journalUrl(action.url),
      status: r.status ?? null,
      timedOut: r.timedOut,
      durationMs: r.durationMs,
      ...(r.error ? { error: r.error } : {}),
    };
  }
}
