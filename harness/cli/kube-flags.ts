import { InvalidArgumentError, type Command } from 'commander';
import type { KubernetesOverride } from '../kube/from-scenario.js';

/** The Kubernetes platform's flags, shared by run, validate and render (checked at validation, exit 2). */
export interface KubeFlags {
  platform?: 'local' | 'kubernetes';
  namespace?: string;
  context?: string;
  image?: string;
  allowNamespace?: string[];
  allowProduction?: boolean;
  allowModeAll?: boolean;
}

function platformKind(value: string): 'local' | 'kubernetes' {
  if (value !== 'local' && value !== 'kubernetes') throw new InvalidArgumentError(`expected local or kubernetes, found ${JSON.stringify(value)}`);
  return value;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function addKubeFlags(command: Command): Command {
  return command
    .option('--platform <kind>', "local or kubernetes: run the scenario on this platform (default: the scenario's; local when it names both)", platformKind)
    .option('--namespace <name>', 'Kubernetes: the namespace (overrides spec.platform.kubernetes.namespace)')
    .option('--context <name>', "Kubernetes: the kubeconfig context (default: KUBECONFIG's current context, or in-cluster)")
    .option('--image <ref>', 'Kubernetes: the Task API image to deploy (built from fixtures/task-api/Dockerfile; default gameday/task-api:0.1.0)')
    .option('--allow-namespace <pattern>', 'Kubernetes: allow this namespace too (exact, or * for any characters; repeatable)', collect)
    .option('--allow-production', 'Kubernetes: allow a namespace named or labelled production')
    .option('--allow-mode-all', 'Kubernetes: allow faults that select every pod (mode all) or more than 50 % of them (fixed-percent)');
}

/** The flags as the plan's override; undefined when none was given. */
export function kubeOverride(o: KubeFlags): KubernetesOverride | undefined {
  const k: KubernetesOverride = {
    ...(o.platform ? { platform: o.platform } : {}),
    ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
    ...(o.context !== undefined ? { context: o.context } : {}),
    ...(o.image !== undefined ? { image: o.image } : {}),
    ...(o.allowNamespace ? { allowNamespaces: o.allowNamespace } : {}),
    ...(o.allowProduction ? { allowProduction: true } : {}),
    ...(o.allowModeAll ? { allowModeAll: true } : {}),
  };
  return Object.keys(k).length > 0 ? k : undefined;
}
