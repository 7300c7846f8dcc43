import { formatDuration, parseDurationMs } from '../core/duration.js';
import { chaosObjectProblems } from '../kube/guardrails.js';
import type { KubeObject } from '../kube/types.js';
import type { FoundObject } from './manifests.js';
import type { ConformanceMetric, ConformancePlan, Finding } from './types.js';

/**
 * The seed's conformance checks as pure functions of what was found: manifest files (static) or
 * the cluster's objects (live: also the pods, the Backups and the VPA's status). Each problem is
 * one sentence naming the object and where it came from.
 */
export interface Inventory {
  mode: 'static' | 'live';
  /** Deployments, StatefulSets, VPAs, Velero Schedules, chaos objects (and anything else in the manifests). */
  objects: FoundObject[];
  /** Live: the pods the Deployment selects. */
  pods?: FoundObject[];
  /** Live: Velero Backups in the Velero namespace. */
  backups?: FoundObject[];
  /** What could not be read, per metric (a CRD absent from the cluster...): the finding says it. */
  unavailable?: Partial<Record<ConformanceMetric, string>>;
  /** Live: now, for the VPA's age. */
  nowMs?: number;
  /** Where the objects were looked for ("fixtures/manifests", "the cluster"). */
  source: string;
}

type Obj = FoundObject['obj'];
type Labels = Record<string, string>;

const get = (o: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const labelsOf = (v: unknown): Labels => (v && typeof v === 'object' ? (v as Labels) : {});

/** "Deployment production/task-api (task-api-deployment.yaml#1)". */
export function describeObject(f: FoundObject): string {
  const m = f.obj.metadata ?? {};
  return `${f.obj.kind} ${m.namespace ? `${m.namespace}/` : ''}${m.name}${f.where ? ` (${f.where})` : ''}`;
}

const ofKind = (inv: Inventory, kind: string, group: string): FoundObject[] => inv.objects.filter((f) => f.obj.kind === kind && (f.obj.apiVersion ?? '').startsWith(group));
const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
const failed = (problems: string[]): Finding => ({ actual: problems.length, detail: problems.join('; '), shown: plural(problems.length, 'problem') });
const unavailable = (inv: Inventory, metric: ConformanceMetric): Finding | undefined => {
  const why = inv.unavailable?.[metric];
  return why === undefined ? undefined : { actual: null, detail: why, shown: 'not read', environment: true };
};

function findDeployment(inv: Inventory, plan: ConformancePlan): FoundObject | undefined {
  return ofKind(inv, 'Deployment', 'apps/').find((f) => f.obj.metadata?.name === plan.deployment && (plan.namespace === undefined || (f.obj.metadata?.namespace ?? 'default') === plan.namespace));
}

/** The namespace the criteria are about: the scenario's, else the Deployment's. */
export function workloadNamespace(inv: Inventory, plan: ConformancePlan): string {
  return plan.namespace ?? findDeployment(inv, plan)?.obj.metadata?.namespace ?? 'default';
}

const noDeployment = (inv: Inventory, plan: ConformancePlan): string => `no Deployment ${plan.namespace ? `${plan.namespace}/` : ''}${plan.deployment} in ${inv.source}`;

/** SC-001: the cost allocation labels on every pod (the pod template statically) and the same on the Deployment. */
export function costLabels(inv: Inventory, plan: ConformancePlan): Finding {
  const dep = findDeployment(inv, plan);
  if (!dep) return failed([noDeployment(inv, plan)]);
  const d = describeObject(dep);
  const problems: string[] = [];
  const meta = labelsOf(dep.obj.metadata?.labels);
  const template = labelsOf(get(dep.obj, 'spec', 'template', 'metadata', 'labels'));
  for (const [key, value] of Object.entries(plan.labels)) {
    const t = template[key];
    if (t === undefined) problems.push(`${d}: the pod template lacks label ${key} (OpenCost reads pod labels)`);
    else if (t !== value) problems.push(`${d}: the pod template has ${key}=${t}, expected ${key}=${value}`);
    const m = meta[key];
    if (m === undefined) problems.push(`${d}: metadata.labels lacks ${key}`);
    else if (m !== value) problems.push(`${d}: metadata.labels has ${key}=${m}, expected ${key}=${value} (as the pod template)`);
  }
  const pods = inv.mode === 'live' ? (inv.pods ?? []) : undefined;
  if (pods) {
    if (pods.length === 0) problems.push(`no pod of ${d} in namespace ${workloadNamespace(inv, plan)}`);
    for (const pod of pods) {
      const labels = labelsOf(pod.obj.metadata?.labels);
      const lacking = Object.keys(plan.labels).filter((k) => labels[k] === undefined);
      if (lacking.length > 0) problems.push(`pod ${pod.obj.metadata?.namespace}/${pod.obj.metadata?.name} lacks ${lacking.join(', ')}`);
      for (const [k, v] of Object.entries(plan.labels)) if (labels[k] !== undefined && labels[k] !== v) problems.push(`pod ${pod.obj.metadata?.namespace}/${pod.obj.metadata?.name} has ${k}=${labels[k]}, expected ${k}=${v}`);
    }
  }
  if (problems.length > 0) return failed(problems);
  const list = Object.entries(plan.labels).map(([k, v]) => `${k}=${v}`).join(', ');
  const where = pods ? `${plural(pods.length, 'pod')} of ${d}` : `the pod template of ${d}`;
  return { actual: 0, detail: `${list} on ${where} and on its metadata`, shown: plural(Object.keys(plan.labels).length, 'label') };
}

/** The Deployment's container names (the VPA needs bounds for each). */
function containersOf(dep: FoundObject | undefined, plan: ConformancePlan): string[] {
  const names = (get(dep?.obj, 'spec', 'template', 'spec', 'containers') as { name?: string }[] | undefined)?.map((c) => c.name).filter((n): n is string => !!n);
  return names && names.length > 0 ? names : [plan.deployment];
}

const DAY_MS = 24 * 3600_000;

/** SC-003: a VPA on the Deployment, updateMode "Off", min/max bounds per container; live: a recommendation. */
export function rightSizing(inv: Inventory, plan: ConformancePlan): Finding {
  const missing = unavailable(inv, 'conformance.rightSizing');
  if (missing) return missing;
  const ns = workloadNamespace(inv, plan);
  const vpas = ofKind(inv, 'VerticalPodAutoscaler', 'autoscaling.k8s.io/').filter(
    (f) => get(f.obj, 'spec', 'targetRef', 'kind') === 'Deployment' && get(f.obj, 'spec', 'targetRef', 'name') === plan.deployment && (f.obj.metadata?.namespace ?? 'default') === ns,
  );
  if (vpas.length === 0) return failed([`no VerticalPodAutoscaler targets Deployment ${ns}/${plan.deployment} in ${inv.source}`]);
  const containers = containersOf(findDeployment(inv, plan), plan);
  const problems: string[] = [];
  const waiting: string[] = [];
  const recommended: string[] = [];
  for (const vpa of vpas) {
    const v = describeObject(vpa);
    const mode = str(get(vpa.obj, 'spec', 'updatePolicy', 'updateMode'));
    if (mode === undefined) problems.push(`${v}: no updatePolicy.updateMode (the default, Recreate, restarts pods), expected "Off"`);
    else if (mode !== 'Off') problems.push(`${v}: updateMode "${mode}", expected "Off" (recommendations only, no restarts)`);
    const policies = (get(vpa.obj, 'spec', 'resourcePolicy', 'containerPolicies') as { containerName?: string; minAllowed?: Labels; maxAllowed?: Labels }[] | undefined) ?? [];
    for (const c of containers) {
      const p = policies.find((x) => x.containerName === c) ?? policies.find((x) => x.containerName === '*');
      if (!p) {
        problems.push(`${v}: no resourcePolicy.containerPolicies entry for container ${c} (min/max bounds)`);
        continue;
      }
      for (const bound of ['minAllowed', 'maxAllowed'] as const) {
        const lacking = ['cpu', 'memory'].filter((r) => p[bound]?.[r] === undefined);
        if (lacking.length > 0) problems.push(`${v}: container ${c} has no ${bound}.${lacking.join(` or ${bound}.`)}`);
      }
      if (inv.mode !== 'live') continue;
      const recs = (get(vpa.obj, 'status', 'recommendation', 'containerRecommendations') as { containerName?: string; target?: Labels }[] | undefined) ?? [];
      const rec = recs.find((r) => r.containerName === c && r.target);
      if (rec?.target) {
        recommended.push(`${c}: cpu ${rec.target['cpu'] ?? '?'}, memory ${rec.target['memory'] ?? '?'}`);
        continue;
      }
      const created = Date.parse(vpa.obj.metadata?.creationTimestamp ?? '');
      const ageMs = Number.isNaN(created) ? undefined : (inv.nowMs ?? Date.now()) - created;
      if (ageMs !== undefined && ageMs >= DAY_MS) problems.push(`${v}: no recommendation for container ${c} after ${formatDuration(Math.round(ageMs / 60_000) * 60_000)} (the spec: within 24h)`);
      else waiting.push(`${v}: no recommendation for container ${c} yet${ageMs === undefined ? '' : `; it is ${formatDuration(Math.round(ageMs / 60_000) * 60_000)} old`} (the spec allows 24h)`);
    }
  }
  if (problems.length > 0) return failed(problems);
  const conforms = `${vpas.map(describeObject).join(', ')} targets Deployment ${ns}/${plan.deployment}, updateMode "Off", min/max bounds for ${containers.join(', ')}`;
  if (inv.mode !== 'live') {
    return { actual: null, detail: conforms, shown: 'not evaluated', notEvaluated: 'the configuration conforms; a recommendation needs a live VPA (gameday verify --live on a cluster)' };
  }
  if (waiting.length > 0) return { actual: null, detail: conforms, shown: 'not yet', notEvaluated: waiting.join('; ') };
  return { actual: 0, detail: `${conforms}; recommendation ${recommended.join('; ')}`, shown: `Available (${recommended.join('; ')})` };
}

/** The Velero Schedules that back up the namespace (includedNamespaces lists it, or "*", or is empty: all). */
function coveringSchedules(inv: Inventory, ns: string): FoundObject[] {
  return ofKind(inv, 'Schedule', 'velero.io/').filter((f) => {
    const included = strings(get(f.obj, 'spec', 'template', 'includedNamespaces'));
    const excluded = strings(get(f.obj, 'spec', 'template', 'excludedNamespaces'));
    return (included.length === 0 || included.includes('*') || included.includes(ns)) && !excluded.includes(ns);
  });
}

type ScheduleJudge = (s: FoundObject, name: string) => { problems: string[]; shown: string; detail: string };

/** Judges each covering Schedule: one without problems passes the criterion; otherwise every problem is named. */
function bySchedule(inv: Inventory, plan: ConformancePlan, metric: ConformanceMetric, judge: ScheduleJudge): Finding {
  const missing = unavailable(inv, metric);
  if (missing) return missing;
  const ns = workloadNamespace(inv, plan);
  const schedules = coveringSchedules(inv, ns);
  if (schedules.length === 0) return failed([`no Velero Schedule covers namespace ${ns} (spec.template.includedNamespaces) in ${inv.source}`]);
  const judged = schedules.map((s) => judge(s, describeObject(s)));
  const good = judged.find((j) => j.problems.length === 0);
  if (good) return { actual: 0, detail: good.detail, shown: good.shown };
  return failed(judged.flatMap((j) => j.problems));
}

/** SC-004: the cron (the scenario's, default daily at 2 AM UTC) and the seed's exclusions; live: Enabled, a last backup. */
export function backupSchedule(inv: Inventory, plan: ConformancePlan): Finding {
  return bySchedule(inv, plan, 'conformance.backupSchedule', (s, name) => {
    const problems: string[] = [];
    const cron = str(get(s.obj, 'spec', 'schedule'))?.trim().replace(/\s+/g, ' ');
    if (cron !== plan.backup.schedule) problems.push(`${name}: schedule ${cron === undefined ? 'missing' : `"${cron}"`}, expected "${plan.backup.schedule}"`);
    const excluded = strings(get(s.obj, 'spec', 'template', 'excludedResources'));
    const lacking = plan.backup.excludedResources.filter((r) => !excluded.includes(r));
    if (lacking.length > 0) problems.push(`${name}: template.excludedResources lacks ${lacking.join(', ')}`);
    let live = '';
    if (inv.mode === 'live') {
      const phase = str(get(s.obj, 'status', 'phase'));
      const last = str(get(s.obj, 'status', 'lastBackup'));
      if (phase !== 'Enabled') {
        const errors = strings(get(s.obj, 'status', 'validationErrors'));
        problems.push(`${name}: phase ${phase ?? '(none)'}, expected Enabled${errors.length ? ` (${errors.join('; ')})` : ''}`);
      }
      if (!last) problems.push(`${name}: no backup yet (status.lastBackup)`);
      live = `, phase ${phase}, last backup ${last}`;
    }
    return { problems, shown: `${cron}${live ? live.replace(/^, phase /, ', ') : ''}`, detail: `${name}: schedule "${cron}", excluding ${excluded.join(', ')}${live}` };
  });
}

/** SC-005: the backups' ttl (Velero's default when absent is 720h). */
export function backupRetention(inv: Inventory, plan: ConformancePlan): Finding {
  const wantMs = parseDurationMs(plan.backup.ttl) ?? 0;
  const days = (ms: number): string => (ms % DAY_MS === 0 ? ` (${plural(ms / DAY_MS, 'day')})` : '');
  return bySchedule(inv, plan, 'conformance.backupRetention', (s, name) => {
    const ttl = str(get(s.obj, 'spec', 'template', 'ttl'));
    const ms = ttl === undefined ? 720 * 3600_000 : parseDurationMs(ttl);
    const shown = ttl ?? '720h (Velero\'s default)';
    if (ms === undefined) return { problems: [`${name}: ttl "${ttl}" is not a duration, expected ${plan.backup.ttl}${days(wantMs)}`], shown, detail: '' };
    if (ms !== wantMs) return { problems: [`${name}: ttl ${ttl === undefined ? 'absent (Velero\'s default, 720h)' : `"${ttl}"`}, expected ${plan.backup.ttl}${days(wantMs)}`], shown, detail: '' };
    return { problems: [], shown, detail: `${name}: ttl ${shown}${days(ms)}` };
  });
}

interface HookDoc {
  name?: string;
  includedNamespaces?: string[];
  labelSelector?: { matchLabels?: Labels };
  pre?: { exec?: { container?: string; command?: string[]; onError?: string; timeout?: string } }[];
}

/** SC-006: a pre exec hook on the PostgreSQL pods running CHECKPOINT and pg_dump with onError Fail; live: the last Backup's hooks succeeded. */
export function backupHook(inv: Inventory, plan: ConformancePlan): Finding {
  const ns = workloadNamespace(inv, plan);
  const db = Object.entries(plan.databaseLabels).map(([k, v]) => `${k}=${v}`).join(',');
  return bySchedule(inv, plan, 'conformance.backupHook', (s, name) => {
    const hooks = ((get(s.obj, 'spec', 'template', 'hooks', 'resources') as HookDoc[] | undefined) ?? []).filter((h) => {
      const nss = h.includedNamespaces ?? [];
      const sel = Object.entries(h.labelSelector?.matchLabels ?? {});
      return (nss.length === 0 || nss.includes('*') || nss.includes(ns)) && sel.length > 0 && sel.every(([k, v]) => plan.databaseLabels[k] === v);
    });
    if (hooks.length === 0) return { problems: [`${name}: no hook selects the PostgreSQL pods (${db}) in namespace ${ns}`], shown: '', detail: '' };
    const problems: string[] = [];
    let ok: string | undefined;
    for (const h of hooks) {
      const pres = (h.pre ?? []).filter((p) => p.exec);
      if (pres.length === 0) problems.push(`${name}: hook ${h.name} has no pre exec hook`);
      pres.forEach((p, i) => {
        const at = `${name}: hook ${h.name} pre[${i}]`;
        const text = (p.exec?.command ?? []).join(' ');
        const mine: string[] = [];
        if (!/\bCHECKPOINT\b/i.test(text)) mine.push(`${at} does not run CHECKPOINT`);
        if (!/\bpg_dump\b/.test(text)) mine.push(`${at} does not run pg_dump`);
        const onError = p.exec?.onError;
        if (onError !== undefined && onError !== 'Fail') mine.push(`${at} has onError: ${onError}, expected Fail (a failed dump must fail the backup)`);
        problems.push(...mine);
        if (mine.length === 0) ok ??= `${at}: CHECKPOINT then pg_dump in container ${p.exec?.container ?? '(first)'}, onError: ${onError ?? 'Fail (default)'}, timeout ${p.exec?.timeout ?? '(default)'}`;
      });
    }
    if (!ok) return { problems, shown: '', detail: '' };
    if (inv.mode !== 'live') return { problems: [], shown: 'CHECKPOINT + pg_dump, onError: Fail', detail: ok };
    const last = lastBackup(inv, s.obj.metadata?.name ?? '');
    if (!last) return { problems: [`${name}: no Backup yet in namespace ${plan.backup.veleroNamespace} (label velero.io/schedule-name)`], shown: '', detail: '' };
    const b = describeObject(last);
    const phase = str(get(last.obj, 'status', 'phase'));
    const attempted = Number(get(last.obj, 'status', 'hookStatus', 'hooksAttempted') ?? 0);
    const failedHooks = Number(get(last.obj, 'status', 'hookStatus', 'hooksFailed') ?? 0);
    const live: string[] = [];
    if (phase !== 'Completed') live.push(`${b}: phase ${phase ?? '(none)'}, expected Completed`);
    if (failedHooks > 0) live.push(`${b}: ${failedHooks} of ${attempted} hook executions failed`);
    else if (attempted === 0) live.push(`${b}: no hook executed (status.hookStatus.hooksAttempted 0)`);
    if (live.length > 0) return { problems: live, shown: '', detail: '' };
    return { problems: [], shown: `Succeeded (${plural(attempted, 'hook')}, ${last.obj.metadata?.name})`, detail: `${ok}; ${b}: Completed, ${attempted} hook executions, none failed` };
  });
}

/** The newest Backup made by the Schedule (by start time, else creation time). */
function lastBackup(inv: Inventory, schedule: string): FoundObject | undefined {
  const time = (f: FoundObject): number => Date.parse(str(get(f.obj, 'status', 'startTimestamp')) ?? f.obj.metadata?.creationTimestamp ?? '') || 0;
  return (inv.backups ?? [])
    .filter((f) => labelsOf(f.obj.metadata?.labels)['velero.io/schedule-name'] === schedule)
    .sort((a, b) => time(b) - time(a))[0];
}

/** The seed's chaos safety review of every chaos object found (and generated): allowed namespace, not production, bounded, mode within the guardrail. */
export function chaosSafety(inv: Inventory, plan: ConformancePlan, generated: readonly FoundObject[] = []): Finding {
  const missing = unavailable(inv, 'conformance.chaosSafety');
  if (missing) return missing;
  const chaos = [...inv.objects.filter((f) => (f.obj.apiVersion ?? '').startsWith('chaos-mesh.org/') && get(f.obj, 'spec', 'selector') !== undefined), ...generated];
  if (chaos.length === 0) return { actual: 0, detail: `no chaos object in ${inv.source}`, shown: '0 chaos objects' };
  const problems = chaos.flatMap((f) => chaosObjectProblems(f.obj as unknown as KubeObject, plan.guard).map((p) => `${p}${f.where ? ` (${f.where})` : ''}`));
  if (problems.length > 0) return failed(problems);
  const names = chaos.map((f) => `${describeObject(f)}: ${String(get(f.obj, 'spec', 'mode'))} in ${strings(get(f.obj, 'spec', 'selector', 'namespaces')).join(', ') || f.obj.metadata?.namespace}, ${String(get(f.obj, 'spec', 'duration'))}`);
  return { actual: 0, detail: names.join('; '), shown: `${plural(chaos.length, 'chaos object')} safe` };
}
