import { Document } from 'yaml';
import { formatDuration } from '../core/duration.js';
import type { Plan } from '../scenario/plan.js';
import { faultObjects } from './chaos.js';
import type { KubernetesPlatformPlan, LabelSelector } from './plan.js';
import type { KubeObject } from './types.js';
import { taskApiSelector, workloadSteps, type RunInput } from './workload.js';

/** One object to apply, with the comment a reader of the rendered YAML sees above it. */
export interface RenderedObject {
  object: KubeObject;
  comment?: string;
}

/** The Kubernetes platform of a plan, or an error when the plan runs elsewhere. */
export function kubernetesPlatform(plan: Plan): KubernetesPlatformPlan {
  if (plan.platform.kind !== 'kubernetes') throw new Error(`plan ${plan.name} runs on the ${plan.platform.kind} platform, not on kubernetes`);
  return plan.platform;
}

/** The workload's pod selector when validation knows it (a deploy, or a scenario's selector); undefined for a Deployment named only. */
export function knownPodSelector(k: KubernetesPlatformPlan, runId: string): LabelSelector | undefined {
  return k.workload.kind === 'deploy' ? taskApiSelector(runId) : k.workload.selector;
}

/**
 * Every object a run of this plan applies, in order, each with a comment: the deploy's steps, then
 * each fault's objects at its time. `podSelector` is needed only for a workload named by its
 * Deployment (the runtime reads it from the cluster).
 */
export function renderedObjects(plan: Plan, run: RunInput, podSelector?: LabelSelector): RenderedObject[] {
  const k = kubernetesPlatform(plan);
  const selector = podSelector ?? knownPodSelector(k, run.runId);
  if (!selector) throw new Error(`the pods of Deployment ${k.workload.kind === 'existing' ? k.workload.deployment : ''} are known only on the cluster: give spec.platform.kubernetes.workload.selector to render without one`);
  const out: RenderedObject[] = [];
  const steps = workloadSteps(k, run);
  const stepNote: Record<string, string> = {
    postgres: 'step 1: PostgreSQL (the next step waits for the StatefulSet to be ready)',
    seed: 'step 2: seed the tasks table (the next step waits for the Job to complete)',
    'task-api': 'step 3: the Task API (the run starts when the Deployment is ready)',
  };
  for (const s of steps) s.objects.forEach((object, i) => out.push({ object, ...(i === 0 ? { comment: stepNote[s.step] } : {}) }));
  const notes: string[] = [];
  plan.faults.forEach((f, i) => {
    const when = `at ${formatDuration(f.atMs)} for ${formatDuration(f.durationMs)}`;
    const objects = faultObjects(f, i, { platform: k, runId: run.runId, podSelector: selector });
    if (objects.length === 0) {
      notes.push(`fault ${f.name} (${f.kind}${f.kind === 'pool-exhaustion' ? ` ${f.mode}` : ''}) ${when}: no object (${f.kind === 'pool-exhaustion' ? "the Task API's leak endpoint through the port-forward" : 'run by the harness'})`);
    }
    objects.forEach((object, j) => out.push({ object, ...(j === 0 ? { comment: `fault ${f.name} (${f.kind}) ${when}: applied at its start, deleted at its end` } : {}) }));
  });
  if (notes.length > 0 && out[0]) out[0] = { ...out[0], comment: [out[0].comment, ...notes].filter(Boolean).join('\n') };
  return out;
}

/** The header of a rendering: what it is, where it would go. */
function header(plan: Plan, k: KubernetesPlatformPlan, run: RunInput): string {
  return [
    `gameday render: scenario ${plan.name}, run ${run.runId}`,
    `context: ${k.context ?? '(current context of KUBECONFIG, or in-cluster)'}; namespace: ${k.namespace}`,
    `workload: ${k.workload.kind === 'deploy' ? `deploy (Task API image ${k.workload.image}, ${k.workload.replicas} replicas)` : 'existing (nothing deployed)'}`,
    'check with: kubectl apply --dry-run=server -f -',
  ].join('\n');
}

/** Objects as a multi-document YAML stream, each comment above its document. */
export function objectsToYaml(objects: readonly RenderedObject[], firstComment?: string): string {
  return objects
    .map((r, i) => {
      const doc = new Document(r.object);
      const comment = [i === 0 ? firstComment : undefined, r.comment].filter(Boolean).join('\n');
      if (comment) doc.commentBefore = comment.split('\n').map((l) => ` ${l}`).join('\n');
      return `---\n${doc.toString({ lineWidth: 0 })}`;
    })
    .join('');
}

/** The exact YAML a run of this plan would apply (kubectl apply --dry-run=server -f - can check it). */
export function renderKubernetesYaml(plan: Plan, run: RunInput, podSelector?: LabelSelector): string {
  const k = kubernetesPlatform(plan);
  const objects = renderedObjects(plan, run, podSelector);
  if (objects.length === 0) return `# ${header(plan, k, run).split('\n').join('\n# ')}\n# nothing to apply\n`;
  return objectsToYaml(objects, header(plan, k, run));
}
