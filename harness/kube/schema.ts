import { z } from 'zod';
import { formatDuration, parseDurationMs } from '../core/duration.js';

/**
 * spec.platform.kubernetes as written in a scenario; built by the scenario schema with its object
 * factory (strict or loose). Cross-field rules and the guardrails are in from-scenario.ts.
 */

type ObjectFactory = typeof z.strictObject;

const S = 1000;
const READY_TIMEOUT = { min: 1 * S, max: 3600 * S };
const GRACE = { min: 0, max: 600 * S };
const POOL_TIMEOUT = { min: 1, max: 600 * S };

function duration(bounds: { min: number; max: number }) {
  const message = `a duration such as "500ms", "30s" or "5m", from ${formatDuration(bounds.min)} to ${formatDuration(bounds.max)}`;
  return z.string().refine((s) => {
    const ms = parseDurationMs(s);
    return ms !== undefined && ms >= bounds.min && ms <= bounds.max;
  }, { message });
}

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dnsLabel = z.string().max(63).regex(DNS_LABEL, 'a DNS-1123 label (lowercase letters, digits, -)');
const dnsSubdomain = z.string().max(253).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'a DNS-1123 subdomain (lowercase letters, digits, -, .)');
const labelKey = z
  .string()
  .max(316)
  .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, 'a label key such as app or app.kubernetes.io/name');
const labelValue = z.string().max(63).regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, 'a label value (at most 63 letters, digits, -, _ or .)');
/** An image reference: registry/repository[:tag][@digest], no spaces. */
export const IMAGE_REF = /^[A-Za-z0-9][A-Za-z0-9._\-/]*(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(@sha256:[a-f0-9]{64})?$/;
const image = z.string().max(512).regex(IMAGE_REF, 'an image reference such as gameday/task-api:0.1.0');
/** A namespace name, or a pattern with * standing for any characters (allowNamespaces). */
export const NAMESPACE_PATTERN = /^[a-z0-9*]([-a-z0-9*]*[a-z0-9*])?$/;

export function kubernetesPlatformSchema(obj: ObjectFactory) {
  const labels = z.record(labelKey, labelValue).refine((r) => Object.keys(r).length >= 1 && Object.keys(r).length <= 20, { message: '1 to 20 labels' });
  return obj({
    /** Everything is applied in, and every fault targets, this namespace (--namespace overrides it). */
    namespace: dnsLabel.optional(),
    /** kubeconfig context (--context overrides it); absent: the current context, or in-cluster. */
    context: z.string().min(1).max(253).regex(/^\S+$/, 'a context name without spaces').optional(),
    /** Namespaces a Game Day may touch (exact, or * patterns); default staging, staging-*, *-staging, gameday, gameday-*. */
    allowNamespaces: z.array(z.string().max(63).regex(NAMESPACE_PATTERN, 'a namespace name, * standing for any characters')).min(1).max(100).optional(),
    /** Deploy the reference Task API and PostgreSQL (the default when no workload is named). */
    deploy: obj({
      image: image.optional(),
      postgresImage: image.optional(),
      replicas: z.number().int().min(1).max(32).optional(),
      pool: obj({
        size: z.number().int().min(1).max(1000).optional(),
        acquireTimeout: duration(POOL_TIMEOUT).optional(),
        statementTimeout: duration(POOL_TIMEOUT).optional(),
      }).optional(),
      seedRows: z.number().int().min(1).max(1_000_000).optional(),
      terminationGracePeriod: duration(GRACE).optional(),
      /** Cost labels over the manifests' (default environment: staging). */
      labels: labels.optional(),
    }).optional(),
    /** An existing workload: its pods by label selector, or the Deployment that selects them. */
    workload: obj({
      selector: labels.optional(),
      deployment: dnsSubdomain.optional(),
      /** The PostgreSQL pods a network-delay targets (default app: postgres). */
      databaseSelector: labels.optional(),
    }).optional(),
    /** Reach the workload through a port-forward to a ready pod behind this Service (deploy: task-api:8000). */
    service: obj({ name: dnsLabel, port: z.number().int().min(1).max(65535) }).optional(),
    /** Or through this URL (an ingress, or gameday running in the cluster). */
    url: z.url().max(4096).optional(),
    readyTimeout: duration(READY_TIMEOUT).default('5m'),
  });
}

export type KubernetesPlatformDocument = z.infer<ReturnType<typeof kubernetesPlatformSchema>>;
