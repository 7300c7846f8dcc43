import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { Clock } from '../core/clock.js';
import { HarnessError } from '../core/errors.js';
import { translateApiError, type KubeAction } from '../platform/kubernetes/errors.js';
import type { ResourceType } from '../platform/kubernetes/resources.js';
import { isProductionName, productionLabel } from './guardrails.js';
import { VELERO_NAMESPACE, type VeleroObject } from './velero.js';

/**
 * The drill's cluster steps against the API server: create a Velero Backup or Restore and follow
 * its status.phase until it ends (Velero's controller does the work), and delete a namespace copy
 * (never one named or labelled production) until it is gone. Polled, each wait bounded.
 */

export const VELERO_TYPES: Record<VeleroObject['kind'], ResourceType> = {
  Backup: { kind: 'Backup', group: 'velero.io', version: 'v1', plural: 'backups' },
  Restore: { kind: 'Restore', group: 'velero.io', version: 'v1', plural: 'restores' },
};
const NAMESPACE_TYPE: ResourceType = { kind: 'Namespace', group: '', version: 'v1', plural: 'namespaces' };
/** Phases after which Velero does nothing more (Completed is the only success). */
const FAILED_PHASES = new Set(['Failed', 'PartiallyFailed', 'FailedValidation']);
const POLL_MS = 100;

export interface PhaseSeen {
  phase: string;
  atMs: number;
}

export interface VeleroRunOptions {
  clock: Clock;
  timeoutMs: number;
  /** Each new phase, when first seen (for the journal). */
  onPhase?(p: PhaseSeen): void;
  signal?: AbortSignal;
}

export class VeleroRunner {
  private readonly custom: CustomObjectsApi;
  private readonly core: CoreV1Api;

  constructor(private readonly kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  private get server(): string {
    return this.kc.getCurrentCluster()?.server ?? '';
  }

  /** Creates the object and waits for Completed; a failed phase or the timeout is an error naming the object, the phase and Velero's reason. */
  async run(obj: VeleroObject, opts: VeleroRunOptions): Promise<PhaseSeen[]> {
    const t = VELERO_TYPES[obj.kind];
    const { name } = obj.metadata;
    const params = { group: t.group, version: t.version, plural: t.plural, namespace: VELERO_NAMESPACE };
    const action = (verb: KubeAction['verb']): KubeAction => ({ verb, resource: t, namespace: VELERO_NAMESPACE, name });
    await this.custom.createNamespacedCustomObject({ ...params, body: obj }).catch((err: unknown) => {
      throw translateApiError(err, action('create'), this.server);
    });
    const seen: PhaseSeen[] = [];
    const deadline = opts.clock.now() + opts.timeoutMs;
    for (let i = 0; i < Math.ceil(opts.timeoutMs / POLL_MS) + 1; i++) {
      opts.signal?.throwIfAborted();
      const got = (await this.custom.getNamespacedCustomObject({ ...params, name }).catch((err: unknown) => {
        throw translateApiError(err, action('get'), this.server);
      })) as { status?: { phase?: string; failureReason?: string; validationErrors?: string[] } };
      const phase = got.status?.phase ?? 'New';
      if (seen.at(-1)?.phase !== phase) {
        const p = { phase, atMs: opts.clock.now() };
        seen.push(p);
        opts.onPhase?.(p);
      }
      if (phase === 'Completed') return seen;
      if (FAILED_PHASES.has(phase)) {
        const why = [got.status?.failureReason, ...(got.status?.validationErrors ?? [])].filter(Boolean).join('; ');
        throw new HarnessError(`Velero ${obj.kind} ${VELERO_NAMESPACE}/${name} ended ${phase}${why ? `: ${why}` : ''} (velero ${obj.kind.toLowerCase()} describe ${name} --details)`);
      }
      if (opts.clock.now() >= deadline) break;
      await opts.clock.sleep(POLL_MS, opts.signal);
    }
    throw new HarnessError(`Velero ${obj.kind} ${VELERO_NAMESPACE}/${name} not Completed within ${opts.timeoutMs / 1000}s (last phase ${seen.at(-1)?.phase ?? 'none'}): is the Velero server running? (kubectl -n velero get pods)`);
  }

  /** The disaster on a cluster: the namespace deleted and waited for until gone. Refuses production (by name or label) before any call that changes anything. */
  async deleteNamespace(namespace: string, opts: VeleroRunOptions): Promise<void> {
    if (isProductionName(namespace)) throw new HarnessError(`refusing to delete namespace "${namespace}": its name says production (a drill deletes a staging copy, never production)`);
    const read = async (): Promise<{ labels?: Record<string, string> } | undefined> => {
      try {
        return ((await this.core.readNamespace({ name: namespace })) as { metadata?: { labels?: Record<string, string> } }).metadata ?? {};
      } catch (err) {
        const e = translateApiError(err, { verb: 'get', resource: NAMESPACE_TYPE, namespace, name: namespace }, this.server);
        if (e.status === 404) return undefined;
        throw e;
      }
    };
    const ns = await read();
    if (!ns) throw new HarnessError(`namespace ${namespace} does not exist: nothing to delete for the drill`);
    const label = productionLabel(ns.labels);
    if (label) throw new HarnessError(`refusing to delete namespace "${namespace}": it is labelled ${label} (a drill deletes a staging copy, never production)`);
    await this.core.deleteNamespace({ name: namespace }).catch((err: unknown) => {
      throw translateApiError(err, { verb: 'delete', resource: NAMESPACE_TYPE, namespace, name: namespace }, this.server);
    });
    const deadline = opts.clock.now() + opts.timeoutMs;
    while (opts.clock.now() < deadline) {
      opts.signal?.throwIfAborted();
      if ((await read()) === undefined) return;
      await opts.clock.sleep(POLL_MS, opts.signal);
    }
    throw new HarnessError(`namespace ${namespace} still exists ${opts.timeoutMs / 1000}s after its deletion (finalizers? kubectl get ns ${namespace} -o yaml)`);
  }
}
