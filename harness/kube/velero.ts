import { join } from 'node:path';
import { HarnessError } from '../core/errors.js';
import type { DisasterRecoveryFaultPlan } from '../faults/kinds/disaster-recovery.js';
import { isProductionName } from './guardrails.js';
import { FAULT_LABEL, runLabels } from './labels.js';
import { MANIFESTS_DIR, readManifests } from './templates.js';

/**
 * The disaster-recovery drill on a cluster, as the seed runs SC-007: a Velero Backup of the
 * namespace taken from the shipped daily Schedule's template (so its pre hook is the seed's
 * CHECKPOINT + pg_dump with onError: Fail), then, after the namespace copy is deleted, a Restore
 * of that Backup with a namespace mapping (`velero restore create --namespace-mappings
 * production:staging-restore-test`). Objects only: what runs them, and waits on their phases,
 * is the Kubernetes platform's part.
 */

export const VELERO_API = 'velero.io/v1';
export const VELERO_NAMESPACE = 'velero';
const SCHEDULE_FILE = 'task-api-velero-schedule.yaml';

/** The Schedule's backup template: what every Backup of the drill copies. */
type BackupSpec = Record<string, unknown> & {
  includedNamespaces?: string[];
  hooks?: { resources?: Array<Record<string, unknown> & { includedNamespaces?: string[] }> };
  metadata?: unknown;
};

export interface VeleroObject {
  apiVersion: typeof VELERO_API;
  kind: 'Backup' | 'Restore';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: Record<string, unknown>;
}

export interface DrillVeleroOptions {
  runId: string;
  /** The namespace backed up and deleted (the drill's `namespace`, else the platform's). */
  namespace: string;
  /** Where the Restore maps it (default `<namespace>-restore`). */
  restoreNamespace?: string;
  /** The manifests directory holding the Schedule (default: the shipped fixtures). */
  manifestsDir?: string;
  /**
   * Restore in place instead of into a mapped copy: only the objects with these labels and of
   * these resources, back into `namespace` (the PostgreSQL of a run whose namespace stays).
   */
  inPlace?: { matchLabels: Record<string, string>; resources: string[] };
}

/** The Schedule's spec.template from the manifests (the seed's task-api-velero-schedule.yaml). */
export function scheduleTemplate(dir: string = MANIFESTS_DIR): BackupSpec {
  const file = join(dir, SCHEDULE_FILE);
  const schedule = readManifests(file).find((d) => d.kind === 'Schedule') as { spec?: { template?: BackupSpec } } | undefined;
  const template = schedule?.spec?.template;
  if (!template || typeof template !== 'object') throw new HarnessError(`${file}: expected a velero.io/v1 Schedule with spec.template, found none`);
  return structuredClone(template);
}

/** The Backup and the Restore of one drill; refuses production namespaces (the drill deletes one of them). */
export function drillVeleroObjects(plan: Pick<DisasterRecoveryFaultPlan, 'name'>, opts: DrillVeleroOptions): { backup: VeleroObject; restore: VeleroObject } {
  const { runId, namespace } = opts;
  const restoreNamespace = opts.restoreNamespace ?? `${namespace}-restore`;
  for (const [what, ns] of [
    ['namespace', namespace],
    ['restore namespace', restoreNamespace],
  ] as const) {
    if (isProductionName(ns)) throw new HarnessError(`fault ${plan.name}: the ${what} "${ns}" is production: a drill deletes and restores namespaces, never production (test restores in staging)`);
  }
  if (!opts.inPlace && restoreNamespace === namespace) throw new HarnessError(`fault ${plan.name}: the restore namespace must differ from the namespace deleted ("${namespace}")`);
  const labels = { ...runLabels(runId), [FAULT_LABEL]: plan.name };
  const template = scheduleTemplate(opts.manifestsDir);
  // The template's own labels go on the Backup's metadata (a Backup spec has no metadata field).
  const { metadata: templateMeta, ...spec } = template;
  const templateLabels = (templateMeta as { labels?: Record<string, string> } | undefined)?.labels ?? {};
  spec.includedNamespaces = [namespace];
  for (const hook of spec.hooks?.resources ?? []) hook.includedNamespaces = [namespace];
  const backupName = `gameday-${runId}-${plan.name}`.slice(0, 63).replace(/-+$/, '');
  const backup: VeleroObject = {
    apiVersion: VELERO_API,
    kind: 'Backup',
    metadata: { name: backupName, namespace: VELERO_NAMESPACE, labels: { ...templateLabels, ...labels } },
    spec,
  };
  const restore: VeleroObject = {
    apiVersion: VELERO_API,
    kind: 'Restore',
    metadata: { name: `${backupName.slice(0, 55)}-restore`, namespace: VELERO_NAMESPACE, labels },
    spec: opts.inPlace
      ? { backupName, includedNamespaces: [namespace], includedResources: opts.inPlace.resources, labelSelector: { matchLabels: opts.inPlace.matchLabels }, restorePVs: true }
      : { backupName, includedNamespaces: [namespace], namespaceMapping: { [namespace]: restoreNamespace }, restorePVs: true },
  };
  return { backup, restore };
}
