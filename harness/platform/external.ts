import { Client } from 'undici';
import type { Clock } from '../core/clock.js';
import { HarnessError } from '../core/errors.js';
import { assertAllowedTarget, guardedConnector } from '../load/loopback.js';
import type { ExternalPlatformPlan } from '../scenario/plan.js';
import type { Deployment, Platform, PlatformContext } from './types.js';

const HEALTH_WAIT_MS = 10_000;
const HEALTH_REQUEST_MS = 2_000;

/** An existing service named by `spec.target.url`: nothing is deployed, only loaded and observed. */
export class ExternalPlatform implements Platform {
  readonly kind = 'external';

  constructor(
    private readonly plan: ExternalPlatformPlan,
    private readonly ctx: PlatformContext,
    private readonly clock: Clock,
  ) {}

  /** Waits for GET /health to answer 2xx, through the same host policy and TLS as the load. */
  async deploy(signal: AbortSignal): Promise<Deployment> {
    const access = { allowHosts: this.plan.allowHosts ?? [], ...(this.plan.tls ? { tls: this.plan.tls } : {}) };
    const url = assertAllowedTarget(this.plan.url, access);
    const path = `${url.pathname.replace(/\/+$/, '')}/health`;
    const client = new Client(url.origin, { headersTimeout: HEALTH_REQUEST_MS, bodyTimeout: HEALTH_REQUEST_MS, connect: guardedConnector(access, HEALTH_REQUEST_MS) });
    const deadline = this.clock.now() + HEALTH_WAIT_MS;
    let last = 'no answer';
    try {
      while (this.clock.now() < deadline && !signal.aborted) {
        try {
          const res = await client.request({ method: 'GET', path, signal: AbortSignal.any([signal, AbortSignal.timeout(HEALTH_REQUEST_MS)]) });
          await res.body.dump();
          if (res.statusCode >= 200 && res.statusCode < 300) {
            this.ctx.journal.record({ source: 'platform', type: 'platform.ready', detail: { url: this.plan.url } });
            return { serviceUrl: this.plan.url, replicas: () => [] };
          }
          last = `HTTP ${res.statusCode}`;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          last = code ? `${code}: ${(err as Error).message}` : (err as Error).message;
        }
        await this.clock.sleep(250, signal);
      }
    } finally {
      await client.destroy();
    }
    signal.throwIfAborted();
    throw new HarnessError(`target ${this.plan.url} did not answer GET ${path} with 2xx within ${HEALTH_WAIT_MS}ms (last: ${last})`);
  }

  async teardown(): Promise<void> {}
}
