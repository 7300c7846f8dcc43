import { dirname, resolve } from 'node:path';
import { isHostAllowed } from '../core/loopback.js';
import { MANIFESTS_DIR } from '../kube/templates.js';
import type { CheckPlan, PlatformPlan } from '../scenario/plan.js';
import type { ScenarioDocument } from '../scenario/schema.js';
import { readManifestObjects } from './manifests.js';
import { defaultConformancePlan, isConformanceMetric, type ConformancePlan } from './types.js';

type Report = (path: string, expected: string, found: string) => void;

/**
 * spec.conformance as a plan, when the scenario has one or a conformance.* check: live on the
 * kubernetes platform (its namespace, context and guardrails), else static on the manifests
 * (default: the platform's templates), which are read now so a missing or malformed one is bad input.
 */
export function conformancePlan(doc: ScenarioDocument, file: string | undefined, platform: PlatformPlan, checks: readonly CheckPlan[], allowHosts: readonly string[], problem: Report): ConformancePlan | undefined {
  const c = doc.spec.conformance;
  if (!c && !checks.some((k) => isConformanceMetric(k.metric))) return undefined;
  const kube = platform.kind === 'kubernetes' ? platform : undefined;
  const base = file ? dirname(resolve(file)) : process.cwd();
  // Manifests named without a mode mean static, whatever the platform.
  const mode = c?.mode ?? (kube && !c?.manifests ? 'live' : 'static');
  if (mode === 'live' && c?.manifests) problem('spec.conformance.manifests', 'no manifests in live mode (it reads the cluster)', `${c.manifests.length} path(s)`);
  const manifests = mode === 'static' ? (c?.manifests ?? [MANIFESTS_DIR]).map((p) => resolve(base, p)) : [];
  if (mode === 'static') {
    for (const p of readManifestObjects(manifests).problems) problem('spec.conformance.manifests', p.expected, `${p.file}${p.path ? ` ${p.path}` : ''}: ${p.found}`);
  }
  const defaults = defaultConformancePlan();
  let opencost: ConformancePlan['opencost'];
  if (c?.opencost) {
    const url = new URL(c.opencost.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') problem('spec.conformance.opencost.url', 'an http:// or https:// URL', url.protocol);
    else if (!isHostAllowed(url.hostname, allowHosts)) problem('spec.conformance.opencost.url', 'a loopback host (a port-forward to svc/opencost), or a host listed in spec.target.allowHosts / --allow-host', url.hostname);
    opencost = { url: c.opencost.url.replace(/\/+$/, ''), window: c.opencost.window };
  }
  const namespace = c?.namespace ?? kube?.namespace;
  return {
    mode,
    manifests,
    ...(namespace ? { namespace } : {}),
    ...(kube?.context ? { context: kube.context } : {}),
    deployment: c?.deployment ?? defaults.deployment,
    labels: c?.labels ?? defaults.labels,
    databaseLabels: c?.databaseLabels ?? defaults.databaseLabels,
    backup: { ...defaults.backup, ...Object.fromEntries(Object.entries(c?.backup ?? {}).filter(([, v]) => v !== undefined)) },
    ...(opencost ? { opencost } : {}),
    chaosNamespaces: defaults.chaosNamespaces,
    guard: kube ? { ...kube.guard, allowNamespaces: [...kube.guard.allowNamespaces] } : defaults.guard,
  };
}
