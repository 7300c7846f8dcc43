/**
 * The Kubernetes platform as a plan (PlatformPlan kind 'kubernetes'): where to run, what to run
 * (deploy the reference Task API and PostgreSQL from fixtures/manifests/, or Game Day an existing
 * workload), how clients reach its Service, and the guardrails validation applied.
 */

/** matchLabels: label key → value. */
export type LabelSelector = Record<string, string>;

/** Deploy the reference Task API and PostgreSQL into the namespace (fixtures/manifests/ as templates). */
export interface KubeDeployWorkload {
  kind: 'deploy';
  /** The Task API image (built from fixtures/task-api/Dockerfile). */
  image: string;
  /** The PostgreSQL image of the StatefulSet and of the pool-exhaustion Jobs (psql). */
  postgresImage: string;
  replicas: number;
  pool: { size: number; acquireTimeoutMs: number; statementTimeoutMs: number };
  seedRows: number;
  /** terminationGracePeriodSeconds of the Task API pods, in ms (whole seconds). */
  terminationGracePeriodMs: number;
  /** Task API fault endpoints to enable (FAULT_INJECTION), only what the scenario's faults need. */
  faultInjection: string[];
  /** Cost labels set over the templates' on every object and pod template (environment: staging by default). */
  labels: Record<string, string>;
}

/** An existing workload: gameday deploys nothing, only loads, injects and observes. */
export interface KubeExistingWorkload {
  kind: 'existing';
  /** matchLabels of the workload's pods; absent when `deployment` names it (resolved at run time). */
  selector?: LabelSelector;
  /** The Deployment whose spec.selector.matchLabels selects the pods. */
  deployment?: string;
  /** The PostgreSQL pods a network-delay targets. */
  databaseSelector: LabelSelector;
}

/** How clients reach the workload: a port-forward to a ready pod behind the Service, or a URL. */
export type KubeAccess = { kind: 'port-forward'; service: string; port: number } | { kind: 'url'; url: string };

/** The guardrails validation checked, kept for the run (namespace labels are read at run time). */
export interface KubeGuard {
  /** Namespace names or `*` patterns a Game Day may touch. */
  allowNamespaces: string[];
  /** --allow-production given. */
  allowProduction: boolean;
  /** --allow-mode-all given: mode all and fixed-percent above 50 allowed. */
  allowModeAll: boolean;
}

export interface KubernetesPlatformPlan {
  kind: 'kubernetes';
  /** Everything is applied in, and every fault targets, this namespace. */
  namespace: string;
  /** kubeconfig context; absent: KUBECONFIG's current context, or the in-cluster service account. */
  context?: string;
  workload: KubeDeployWorkload | KubeExistingWorkload;
  access: KubeAccess;
  /** How long a deploy (or a replacement pod) may take to become ready before the run fails. */
  readyTimeoutMs: number;
  guard: KubeGuard;
}
