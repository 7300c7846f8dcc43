// Validation of custom objects against their CRD's openAPIV3Schema, the way the apiserver does it:
// unknown fields are a strict-decoding error (fieldValidation=Strict) or pruned with a warning (Warn),
// schema violations are 422 Invalid with one cause per field.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { ResourceDef } from './resources.js';
import { errors, type StatusCause } from './status.js';
import type { KubeObject } from './store.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  anyOf?: Schema[];
};

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i);
ajv.addFormat('int-or-string', true);
ajv.addFormat('byte', true);
ajv.addFormat('double', { type: 'number', validate: () => true });
ajv.addFormat('float', { type: 'number', validate: () => true });

const compiled = new WeakMap<object, ValidateFunction>();

/** The field paths of values the schema does not declare (`spec.foo`, `spec.selector.pods.x[0]`...). */
function unknownFields(value: unknown, schema: Schema | undefined, path: string, out: string[]): void {
  if (schema === undefined || schema['x-kubernetes-preserve-unknown-fields'] === true) return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => unknownFields(v, schema.items, `${path}[${i}]`, out));
    return;
  }
  if (value === null || typeof value !== 'object' || schema.type !== 'object') return;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const child = path === '' ? k : `${path}.${k}`;
    if (schema.properties?.[k] !== undefined) unknownFields(v, schema.properties[k], child, out);
    else if (typeof schema.additionalProperties === 'object') unknownFields(v, schema.additionalProperties, child, out);
    else if (schema.additionalProperties !== true && (schema.properties !== undefined || schema.additionalProperties === false)) out.push(child);
  }
}

function prune(value: unknown, paths: string[]): void {
  for (const p of paths) {
    const parts = p.split('.');
    let cur: unknown = value;
    for (const part of parts.slice(0, -1)) {
      const m = part.match(/^([^[]+)((\[\d+\])*)$/);
      cur = (cur as Record<string, unknown> | undefined)?.[m?.[1] ?? part];
      for (const idx of (m?.[2] ?? '').matchAll(/\[(\d+)\]/g)) cur = (cur as unknown[] | undefined)?.[Number(idx[1])];
    }
    if (cur !== null && typeof cur === 'object') delete (cur as Record<string, unknown>)[parts[parts.length - 1]!];
  }
}

function fieldOf(instancePath: string): string {
  return instancePath
    .split('/')
    .filter((s) => s !== '')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc === '' ? seg : `${acc}.${seg}`), '');
}

function show(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? 'null';
}

/** One ajv error as the apiserver's field error. */
function causeOf(e: ErrorObject, obj: unknown): StatusCause | undefined {
  const field = fieldOf(e.instancePath);
  const value = e.instancePath.split('/').filter((s) => s !== '').reduce<unknown>((acc, s) => (acc as Record<string, unknown> | undefined)?.[s], obj);
  switch (e.keyword) {
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      return { reason: 'FieldValueRequired', message: 'Required value', field: field === '' ? missing : `${field}.${missing}` };
    }
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map(show).join(', ');
      return { reason: 'FieldValueNotSupported', message: `Unsupported value: ${show(value)}: supported values: ${allowed}`, field };
    }
    case 'type': {
      const found = Array.isArray(value) ? 'array' : value === null ? 'null' : Number.isInteger(value) ? 'integer' : typeof value === 'number' ? 'number' : typeof value;
      const expected = (e.params as { type: string }).type;
      return { reason: 'FieldValueTypeMismatch', message: `Invalid value: "${found}": ${field} in body must be of type ${expected}: "${found}"`, field };
    }
    case 'minimum':
    case 'maximum': {
      const p = e.params as { comparison: string; limit: number };
      const word = p.comparison.startsWith('>') ? 'greater' : 'less';
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${show(value)}: ${field} in body should be ${word} than or equal to ${p.limit}`, field };
    }
    case 'anyOf':
    case 'if':
      return undefined; // the branch errors say it better
    default:
      return { reason: 'FieldValueInvalid', message: `Invalid value: ${show(value)}: ${field} in body ${e.message ?? 'is invalid'}`, field };
  }
}

/**
 * Validates a custom object; throws the apiserver's error. With Warn/Ignore unknown fields are pruned
 * from `obj` (in place) and returned as warnings.
 */
export function validateCustomObject(r: ResourceDef, obj: KubeObject, mode: FieldValidation): string[] {
  if (r.custom !== true) return [];
  const schema = r.schema as Schema | undefined;
  if (schema === undefined) return [];
  const unknown: string[] = [];
  const body = { ...obj } as Record<string, unknown>;
  delete body.metadata;
  unknownFields(body, schema, '', unknown);
  if (unknown.length > 0 && mode === 'Strict') {
    const list = unknown.map((u) => `unknown field "${u}"`).join(', ');
    throw errors.badRequest(`${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: strict decoding error: ${list}`);
  }
  prune(obj, unknown);
  let validate = compiled.get(schema);
  if (validate === undefined) {
    validate = ajv.compile(schema);
    compiled.set(schema, validate);
  }
  const name = obj.metadata?.name ?? '';
  if (!validate(obj)) {
    const causes = (validate.errors ?? []).map((e) => causeOf(e, obj)).filter((c): c is StatusCause => c !== undefined);
    throw errors.invalid(r.kind, r.group, name, causes.length > 0 ? causes : [{ reason: 'FieldValueInvalid', message: 'Invalid value' }]);
  }
  return mode === 'Warn' ? unknown.map((u) => `unknown field "${u}"`) : [];
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** metadata.name checks every create goes through (and the few built-in rules gameday can trip on). */
export function validateObject(r: ResourceDef, obj: KubeObject): void {
  const name = obj.metadata?.name ?? '';
  const causes: StatusCause[] = [];
  if (name === '') {
    causes.push({ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' });
  } else {
    const label = ['namespaces', 'services'].includes(r.plural);
    const ok = label ? DNS1123_LABEL.test(name) && name.length <= 63 : DNS1123_SUBDOMAIN.test(name) && name.length <= 253;
    if (!ok) {
      const what = label ? `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')` : `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`;
      causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${name}": ${what}`, field: 'metadata.name' });
    }
  }
  for (const [k, v] of Object.entries(obj.metadata?.labels ?? {})) {
    if (typeof v !== 'string' || v.length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v)) {
      causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: ${show(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`, field: `metadata.labels` });
    }
    if (k.length === 0) causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: "${k}": name part must be non-empty`, field: 'metadata.labels' });
  }
  const spec = obj.spec as
    | { selector?: { matchLabels?: Record<string, string> }; template?: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: unknown[] } }; containers?: unknown[] }
    | undefined;
  if (['deployments', 'replicasets', 'statefulsets'].includes(r.plural)) {
    if (spec?.selector === undefined) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' });
    const tl = spec?.template?.metadata?.labels ?? {};
    const ml = spec?.selector?.matchLabels ?? {};
    if (spec?.selector !== undefined && Object.entries(ml).some(([k, v]) => tl[k] !== v)) {
      causes.push({ reason: 'FieldValueInvalid', message: `Invalid value: map[string]string${JSON.stringify(tl)}: \`selector\` does not match template \`labels\``, field: 'spec.template.metadata.labels' });
    }
    if ((spec?.template?.spec?.containers ?? []).length === 0) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.template.spec.containers' });
  }
  if (r.plural === 'pods' && (spec?.containers ?? []).length === 0) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers' });
  if (r.plural === 'jobs' && (spec?.template?.spec?.containers ?? []).length === 0) causes.push({ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.template.spec.containers' });
  if (causes.length > 0) throw errors.invalid(r.kind, r.group, name, causes);
}
