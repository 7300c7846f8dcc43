import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { HarnessError } from '../../core/errors.js';

/** Where the connection settings came from, as kubectl would say it. */
export type KubeConfigSource = 'KUBECONFIG' | '~/.kube/config' | 'in-cluster service account';

export interface KubeConnection {
  kc: KubeConfig;
  /** The context in use (`inClusterContext` for the service account). */
  context: string;
  /** The API server's URL. */
  server: string;
  /** The namespace: the one asked for, else the context's, else the service account's, else `default`. */
  namespace: string;
  source: KubeConfigSource;
}

export interface KubeConnectOptions {
  /** `--context`: a context of the kubeconfig instead of its current-context. */
  context?: string;
  /** The scenario's or `--namespace`'s namespace; absent: the context's. */
  namespace?: string;
  /** Defaults to process.env (tests pass their own). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Loads the connection the way kubectl does: the files of KUBECONFIG (merged, first one's
 * current-context), else ~/.kube/config, else the pod's service account when running in-cluster.
 * Unlike loadFromDefault, never falls back to http://localhost:8080: no configuration is an error.
 */
export function connect(options: KubeConnectOptions = {}): KubeConnection {
  const env = options.env ?? process.env;
  const kc = new KubeConfig();
  let source: KubeConfigSource;
  const files = (env['KUBECONFIG'] ?? '').split(':').filter((f) => f.length > 0);
  const home = join(env['HOME'] ?? homedir(), '.kube', 'config');
  try {
    if (files.length > 0) {
      const missing = files.filter((f) => !existsSync(f));
      if (missing.length === files.length) throw new HarnessError(`KUBECONFIG names ${missing.join(', ')}, which does not exist`);
      kc.loadFromFile(files.find((f) => existsSync(f)) as string);
      for (const f of files.slice(1).filter((f) => existsSync(f))) {
        const more = new KubeConfig();
        more.loadFromFile(f);
        kc.mergeConfig(more, true);
      }
      source = 'KUBECONFIG';
    } else if (existsSync(home)) {
      kc.loadFromFile(home);
      source = '~/.kube/config';
    } else if (env['KUBERNETES_SERVICE_HOST'] && env['KUBERNETES_SERVICE_PORT']) {
      const host = env['KUBERNETES_SERVICE_HOST'] as string;
      const port = env['KUBERNETES_SERVICE_PORT'] as string;
      kc.loadFromCluster();
      // loadFromCluster reads process.env; the address comes from the environment given here.
      const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
      kc.clusters = kc.clusters.map((c) => ({ ...c, server: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}` }));
      source = 'in-cluster service account';
    } else {
      throw new HarnessError('no Kubernetes configuration: set KUBECONFIG, create ~/.kube/config, or run in a pod with a service account');
    }
  } catch (err) {
    if (err instanceof HarnessError) throw err;
    throw new HarnessError(`cannot read the Kubernetes configuration: ${(err as Error).message}`, { cause: err });
  }
  if (options.context) {
    if (!kc.getContextObject(options.context)) {
      throw new HarnessError(`context "${options.context}" is not in the kubeconfig (contexts: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    }
    kc.setCurrentContext(options.context);
  }
  const context = kc.getCurrentContext();
  const ctx = kc.getContextObject(context);
  if (!ctx) throw new HarnessError(`the kubeconfig has no current context${kc.getContexts().length ? ` (contexts: ${kc.getContexts().map((c) => c.name).join(', ')}; pick one with --context)` : ''}`);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new HarnessError(`context "${context}" names cluster "${ctx.cluster}", which is not in the kubeconfig`);
  const namespace = options.namespace ?? ctx.namespace ?? 'default';
  return { kc, context, server: cluster.server, namespace, source };
}
