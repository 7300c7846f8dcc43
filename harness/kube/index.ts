/** Pure builders of the Kubernetes objects a Game Day applies (no API calls). */
export { RUN_LABEL, FAULT_LABEL, MANAGED_BY_LABEL, newRunId, isRunId, runLabels, runSelector, faultObjectName, newDatabasePassword } from './labels.js';
export type { KubernetesPlatformPlan, KubeDeployWorkload, KubeExistingWorkload, KubeAccess, KubeGuard, LabelSelector } from './plan.js';
export type { KubeObject } from './types.js';
export { MANIFESTS_DIR, workloadTemplates, readManifests, type WorkloadTemplates } from './templates.js';
export { workloadSteps, workloadObjects, taskApiSelector, postgresSelector, type RunInput, type WorkloadStep } from './workload.js';
export { faultObjects, podChaos, networkChaos, poolJob, chaosDuration, CHAOS_API_VERSION, type FaultObjectsInput } from './chaos.js';
export { renderedObjects, renderKubernetesYaml, objectsToYaml, knownPodSelector, type RenderedObject } from './render.js';
export {
  DEFAULT_ALLOW_NAMESPACES,
  namespaceMatches,
  isProductionName,
  productionLabel,
  namespaceProblems,
  namespaceLabelRefusal,
  selectionProblems,
  faultProblems,
  chaosObjectProblems,
} from './guardrails.js';
