import type { Clock } from '../core/clock.js';
import { HarnessError } from '../core/errors.js';
import type { ExternalPlatformPlan } from '../scenario/plan.js';
import type { Deployment, Platform, PlatformContext } from './types.js';

const HEALTH_WAIT_MS = 10_000;

/** An existing service named by `spec.target.url`: nothing is deployed, only loaded and observed. */
export class ExternalPlatform implements Platform {
  readonly kind = 'external';

  constructor(
    private readonly plan: ExternalPlatformPlan,
    private readonly ctx: PlatformContext,
    private readonly clock: Clock,
  ) {}

  async deploy(signal: AbortSignal): Promise<Deployment> {
    const deadline = this.clock.now() + HEALTH_WAIT_MS;
    let last = 'no answer';
    while (this.clock.now() < deadline && !signal.aborted) {
      try {
        const res = await fetch(`${this.plan.url}/health`, { signal: AbortSignal.any([signal, AbortSignal.timeout(2000)]) });
        if (res.ok) {
          this.ctx.journal.record({ source: 'platform', type: 'platform.ready', detail: { url: this.plan.url } });
          return { serviceUrl: this.plan.url, replicas: () => [] };
        }
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await this.clock.sleep(250, signal);
    }
    signal.throwIfAborted();
    throw new HarnessError(`target ${this.plan.url} did not answer GET /health with 2xx within ${HEALTH_WAIT_MS}ms (last: ${last})`);
  }

  async teardown(): Promise<void> {}
}
