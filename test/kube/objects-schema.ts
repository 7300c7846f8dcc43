import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';

/**
 * Validation of generated objects against the real schemas: Chaos Mesh, VPA and Velero objects
 * against their CRDs' openAPIV3Schema in ../shared/ (strict, as `kubectl apply --validate=strict`:
 * an unknown field is an error), Kubernetes core objects structurally with kubernetes-models.
 */

export const SHARED = fileURLToPath(new URL('../../../shared/', import.meta.url));

type Schema = Record<string, unknown>;

/** The fields of ObjectMeta a manifest may set (the API server validates metadata itself). */
const OBJECT_META: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 253 },
    namespace: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
    labels: { type: 'object', additionalProperties: { type: 'string', maxLength: 63 } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

/**
 * A structural CRD schema as JSON Schema for ajv: objects with properties reject unknown fields
 * (unless x-kubernetes-preserve-unknown-fields), int-or-string is either, other x-kubernetes-*
 * markers (list and map types, CEL rules ajv cannot run) are dropped.
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const src = node as Schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(src)) {
    if (k.startsWith('x-kubernetes-') || k === 'description') continue;
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as Schema).map(([p, s]) => [p, toJsonSchema(s)])) : toJsonSchema(v);
  }
  if (src['x-kubernetes-int-or-string'] === true) {
    delete out['type'];
    return { ...out, anyOf: [{ type: 'integer' }, { type: 'string' }] };
  }
  if (out['properties'] && out['additionalProperties'] === undefined && src['x-kubernetes-preserve-unknown-fields'] !== true) out['additionalProperties'] = false;
  return out;
}

const ajv = new Ajv({ strict: true, strictTypes: false, strictRequired: false, allErrors: true, formats: { 'date-time': true, int32: true, int64: true } });
const validators = new Map<string, ValidateFunction>();

/** The CRD files that define each kind this project creates or ships. */
const CRD_FILES: Record<string, string> = {
  PodChaos: 'chaos-mesh-crds/chaos-mesh.org_podchaos.yaml',
  NetworkChaos: 'chaos-mesh-crds/chaos-mesh.org_networkchaos.yaml',
  VerticalPodAutoscaler: 'vpa-crds/vpa-v1-crd-gen.vpa-1.7.1.yaml',
  Schedule: 'velero-crds/velero.io_schedules.yaml',
  Backup: 'velero-crds/velero.io_backups.yaml',
  Restore: 'velero-crds/velero.io_restores.yaml',
};

function crdValidator(kind: string, apiVersion: string): ValidateFunction {
  const key = `${apiVersion}/${kind}`;
  const cached = validators.get(key);
  if (cached) return cached;
  const file = CRD_FILES[kind];
  if (!file) throw new Error(`no CRD known for ${kind}`);
  const [group, version] = apiVersion.split('/');
  const crd = parseAllDocuments(readFileSync(`${SHARED}${file}`, 'utf8'))
    .map((d) => d.toJS() as { spec?: { group: string; names: { kind: string }; versions: Array<{ name: string; schema: { openAPIV3Schema: Schema } }> } })
    .find((d) => d?.spec?.group === group && d.spec?.names.kind === kind);
  const v = crd?.spec?.versions.find((x) => x.name === version);
  if (!v) throw new Error(`${file}: no ${kind} in ${apiVersion}`);
  const schema = toJsonSchema(v.schema.openAPIV3Schema) as Schema;
  const props = schema['properties'] as Schema;
  props['metadata'] = OBJECT_META;
  props['apiVersion'] = { const: apiVersion };
  props['kind'] = { const: kind };
  schema['required'] = ['apiVersion', 'kind', 'metadata', 'spec'];
  const validate = ajv.compile(schema);
  validators.set(key, validate);
  return validate;
}

/** Problems of one custom object against its CRD, as "path: message" lines; [] when valid. */
export function crdProblems(obj: { apiVersion: string; kind: string }): string[] {
  const validate = crdValidator(obj.kind, obj.apiVersion);
  if (validate(obj)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
}

/** Core objects: the kubernetes-models class of each kind (its OpenAPI schema: types, required fields, enums). */
const CORE: Record<string, () => Promise<new (data: never) => { validate(): void }>> = {
  'apps/v1/Deployment': async () => (await import('kubernetes-models/apps/v1/Deployment')).Deployment as never,
  'apps/v1/StatefulSet': async () => (await import('kubernetes-models/apps/v1/StatefulSet')).StatefulSet as never,
  'v1/Service': async () => (await import('kubernetes-models/v1/Service')).Service as never,
  'v1/Secret': async () => (await import('kubernetes-models/v1/Secret')).Secret as never,
  'batch/v1/Job': async () => (await import('kubernetes-models/batch/v1/Job')).Job as never,
};

export function isCustom(obj: { kind: string }): boolean {
  return obj.kind in CRD_FILES;
}

/** Problems of a core object against its Kubernetes schema; [] when valid. */
export async function coreProblems(obj: { apiVersion: string; kind: string }): Promise<string[]> {
  const load = CORE[`${obj.apiVersion}/${obj.kind}`];
  if (!load) return [`no schema known for ${obj.apiVersion} ${obj.kind}`];
  const Model = await load();
  try {
    new Model(obj as never).validate();
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

/** Either kind of object. */
export async function schemaProblems(obj: { apiVersion: string; kind: string }): Promise<string[]> {
  return isCustom(obj) ? crdProblems(obj) : coreProblems(obj);
}
