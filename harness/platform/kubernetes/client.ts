import { CoreV1Api, CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { translateApiError, type KubeAction } from './errors.js';
import { resourceType, type ResourceType } from './resources.js';

/** Any object as the API returns it: metadata, and whatever spec/status its kind has. */
export interface KubeObject extends KubernetesObject {
  metadata?: KubernetesObject['metadata'] & { name?: string };
  spec?: unknown;
  status?: unknown;
  [key: string]: unknown;
}

export interface KubeList {
  items: KubeObject[];
  resourceVersion: string;
}

type CoreMethod = (param: Record<string, unknown>, options?: unknown) => Promise<unknown>;

/**
 * Create, read, list, patch and delete of any resource in resources.ts, through the typed API
 * classes of @kubernetes/client-node (CoreV1Api for the core group, CustomObjectsApi, which is
 * path-generic, for every named group). Every failure comes out translated (errors.ts).
 */
export class KubeClient {
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;

  constructor(
    readonly kc: KubeConfig,
    readonly namespace: string,
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  get server(): string {
    return this.kc.getCurrentCluster()?.server ?? '';
  }

  private async call<T>(action: KubeAction, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw translateApiError(err, action, this.server);
    }
  }

  private coreMethod(verb: string, t: ResourceType): CoreMethod {
    const name = `${verb}Namespaced${t.kind}`;
    const method = (this.core as unknown as Record<string, CoreMethod | undefined>)[name];
    if (!method) throw new Error(`CoreV1Api has no ${name}`);
    return method.bind(this.core);
  }

  private groupParams(t: ResourceType, namespace: string): { group: string; version: string; plural: string; namespace: string } {
    return { group: t.group, version: t.version, plural: t.plural, namespace };
  }

  /** The namespace object (cluster-scoped), or undefined when it does not exist. */
  async getNamespace(name: string): Promise<KubeObject | undefined> {
    const action: KubeAction = { verb: 'get', resource: { kind: 'Namespace', group: '', version: 'v1', plural: 'namespaces' }, namespace: name, name };
    try {
      return (await this.core.readNamespace({ name })) as KubeObject;
    } catch (err) {
      const e = translateApiError(err, action, this.server);
      if (e.status === 404) return undefined;
      throw e;
    }
  }

  async create(obj: KubeObject): Promise<KubeObject> {
    const t = resourceType(obj.apiVersion, obj.kind ?? '');
    const namespace = obj.metadata?.namespace ?? this.namespace;
    const action: KubeAction = { verb: 'create', resource: t, namespace, ...(obj.metadata?.name ? { name: obj.metadata.name } : {}) };
    return this.call(action, async () => {
      const body = { ...obj, metadata: { ...obj.metadata, namespace } };
      if (!t.group) return (await this.coreMethod('create', t)({ namespace, body })) as KubeObject;
      return (await this.custom.createNamespacedCustomObject({ ...this.groupParams(t, namespace), body })) as KubeObject;
    });
  }

  /** The object, or undefined when it does not exist. */
  async get(t: ResourceType, name: string, namespace = this.namespace): Promise<KubeObject | undefined> {
    const action: KubeAction = { verb: 'get', resource: t, namespace, name };
    try {
      if (!t.group) return (await this.coreMethod('read', t)({ name, namespace })) as KubeObject;
      return (await this.custom.getNamespacedCustomObject({ ...this.groupParams(t, namespace), name })) as KubeObject;
    } catch (err) {
      const e = translateApiError(err, action, this.server);
      if (e.notFound === 'object') return undefined;
      throw e;
    }
  }

  async list(t: ResourceType, labelSelector?: string, namespace = this.namespace): Promise<KubeList> {
    const action: KubeAction = { verb: 'list', resource: t, namespace };
    return this.call(action, async () => {
      const params = { namespace, ...(labelSelector ? { labelSelector } : {}) };
      const list = (!t.group ? await this.coreMethod('list', t)(params) : await this.custom.listNamespacedCustomObject({ ...this.groupParams(t, namespace), ...params })) as {
        items?: KubeObject[];
        metadata?: { resourceVersion?: string };
      };
      // The typed core models keep no apiVersion/kind on items: put them back for whoever prints them.
      const items = (list.items ?? []).map((o) => ({ ...o, kind: o.kind ?? t.kind, apiVersion: o.apiVersion ?? (t.group ? `${t.group}/${t.version}` : t.version) }));
      return { items, resourceVersion: list.metadata?.resourceVersion ?? '' };
    });
  }

  /** A JSON merge patch (RFC 7386): `{metadata: {finalizers: null}}` clears finalizers. */
  async mergePatch(t: ResourceType, name: string, patch: object, namespace = this.namespace): Promise<KubeObject> {
    const action: KubeAction = { verb: 'patch', resource: t, namespace, name };
    const options = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    return this.call(action, async () => {
      if (!t.group) return (await this.coreMethod('patch', t)({ name, namespace, body: patch }, options)) as KubeObject;
      return (await this.custom.patchNamespacedCustomObject({ ...this.groupParams(t, namespace), name, body: patch }, options)) as KubeObject;
    });
  }

  /** Deletes; false when it was already gone. Foreground propagation for owners (a Deployment's pods go with it). */
  async delete(t: ResourceType, name: string, options: { namespace?: string; gracePeriodSeconds?: number } = {}): Promise<boolean> {
    const namespace = options.namespace ?? this.namespace;
    const action: KubeAction = { verb: 'delete', resource: t, namespace, name };
    const grace = options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: options.gracePeriodSeconds } : {};
    try {
      if (!t.group) await this.coreMethod('delete', t)({ name, namespace, propagationPolicy: 'Background', ...grace });
      else await this.custom.deleteNamespacedCustomObject({ ...this.groupParams(t, namespace), name, propagationPolicy: 'Background', ...grace });
      return true;
    } catch (err) {
      const e = translateApiError(err, action, this.server);
      if (e.notFound === 'object') return false;
      throw e;
    }
  }
}

/** `a=b,c=d` from a label map. */
export function selectorOf(labels: Record<string, string>): string {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
}
