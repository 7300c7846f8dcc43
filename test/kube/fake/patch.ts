// The PATCH content types: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and strategic merge
// patch (lists of objects merged by their merge key, `$patch`/`$setElementOrder`/`$retainKeys`
// directives honoured as kubectl apply sends them).
import { errors } from './status.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isObject(x: unknown): x is Record<string, Json> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** Merge keys of the list fields of the built-in types (patchMergeKey in k8s.io/api). */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
  conditions: 'type',
  ownerReferences: 'uid',
  tolerations: 'key',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
};

function mergeKeyFor(field: string, items: Json[]): string | undefined {
  const k = MERGE_KEYS[field];
  if (k === undefined) return undefined;
  // Service ports merge by `port`, container ports by `containerPort`.
  if (field === 'ports' && items.some((i) => isObject(i) && i.port !== undefined && i.containerPort === undefined)) return 'port';
  return k;
}

export function strategicMergePatch(target: Json | undefined, patch: Json, field = ''): Json {
  if (Array.isArray(patch)) {
    const key = mergeKeyFor(field, patch);
    if (key === undefined || !Array.isArray(target)) return structuredClone(patch).filter((p) => !(isObject(p) && p.$patch !== undefined));
    const out = structuredClone(target);
    for (const item of patch) {
      if (!isObject(item)) continue;
      const idx = out.findIndex((o) => isObject(o) && o[key] === item[key]);
      if (item.$patch === 'delete') {
        if (idx >= 0) out.splice(idx, 1);
        continue;
      }
      if (idx >= 0) out[idx] = strategicMergePatch(out[idx], item);
      else out.push(strategicMergePatch(undefined, item));
    }
    return out;
  }
  if (!isObject(patch)) return structuredClone(patch);
  if (patch.$patch === 'replace') {
    const rest = structuredClone(patch);
    delete rest.$patch;
    return rest;
  }
  if (patch.$patch === 'delete') return null;
  let out: Record<string, Json> = isObject(target) ? structuredClone(target) : {};
  const retain = patch.$retainKeys;
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$setElementOrder/') || k === '$retainKeys' || k === '$patch') continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const f = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[f]) && Array.isArray(v)) out[f] = (out[f] as Json[]).filter((x) => !(v as Json[]).includes(x));
      continue;
    }
    if (v === null) delete out[k];
    else out[k] = strategicMergePatch(out[k], v, k);
  }
  if (Array.isArray(retain)) out = Object.fromEntries(Object.entries(out).filter(([k]) => (retain as Json[]).includes(k)));
  return out;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw errors.badRequest(`the server rejected our request due to an error in our request`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
}

export function jsonPatch(doc: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw errors.badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let out = structuredClone(doc);
  for (const op of ops as { op: string; path: string; value?: Json; from?: string }[]) {
    const parts = pointer(op.path);
    const get = (ps: string[]): Json | undefined => ps.reduce<Json | undefined>((acc, p) => (Array.isArray(acc) ? acc[Number(p)] : isObject(acc) ? acc[p] : undefined), out);
    const parent = get(parts.slice(0, -1));
    const last = parts[parts.length - 1];
    const fail = (why: string): never => {
      throw errors.custom(422, 'Invalid', `the server rejected our request due to an error in our request: ${why}`, {});
    };
    switch (op.op) {
      case 'test':
        if (JSON.stringify(get(parts)) !== JSON.stringify(op.value)) fail(`testing value ${op.path} failed`);
        break;
      case 'remove':
        if (last === undefined) fail('cannot remove root');
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else if (isObject(parent) && last! in parent) delete parent[last!];
        else fail(`unable to remove nonexistent key: ${last}: missing value`);
        break;
      case 'add':
      case 'replace': {
        const value = structuredClone(op.value ?? null);
        if (last === undefined) {
          out = value;
          break;
        }
        if (Array.isArray(parent)) {
          const i = last === '-' ? parent.length : Number(last);
          if (op.op === 'add') parent.splice(i, 0, value);
          else parent[i] = value;
        } else if (isObject(parent)) {
          if (op.op === 'replace' && !(last in parent)) fail(`replace operation does not apply: doc is missing key: ${op.path}: missing value`);
          parent[last] = value;
        } else fail(`doc is missing path: "${op.path}": missing value`);
        break;
      }
      case 'move':
      case 'copy': {
        const from = pointer(op.from ?? '');
        const value = structuredClone(get(from) ?? null);
        if (op.op === 'move') out = jsonPatch(out, [{ op: 'remove', path: op.from }]);
        out = jsonPatch(out, [{ op: 'add', path: op.path, value }]);
        break;
      }
      default:
        fail(`Unexpected kind: ${op.op}`);
    }
  }
  return out;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export function patchTypeOf(contentType: string | undefined): PatchType {
  const ct = (contentType ?? '').split(';')[0]!.trim();
  switch (ct) {
    case 'application/json-patch+json':
      return 'json';
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+cbor':
      return 'apply';
    default:
      throw errors.custom(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`, {});
  }
}

export function applyPatch(type: PatchType, current: unknown, patch: unknown, custom: boolean): unknown {
  switch (type) {
    case 'json':
      return jsonPatch(current as Json, patch);
    case 'merge':
      return mergePatch(current as Json, patch as Json);
    case 'strategic':
      if (custom) throw errors.custom(415, 'UnsupportedMediaType', 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml', {});
      return strategicMergePatch(current as Json, patch as Json);
    case 'apply':
      return custom ? mergePatch(current as Json, patch as Json) : strategicMergePatch(current as Json, patch as Json);
  }
}
