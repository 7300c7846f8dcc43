// Label and field selectors as the apiserver parses them (k8s.io/apimachinery/pkg/labels, fields).
import { errors } from './status.js';
import type { KubeObject } from './store.js';

type Requirement =
  | { op: '=' | '!='; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | '!exists'; key: string };

export type LabelSelector = (labels: Record<string, string> | undefined) => boolean;

/** Splits on commas that are not inside `(...)`. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((p) => p.trim()).filter((p) => p !== '');
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

export function parseLabelSelector(text: string | undefined): LabelSelector {
  if (text === undefined || text.trim() === '') return () => true;
  const reqs: Requirement[] = [];
  for (const part of splitTop(text)) {
    let m: RegExpMatchArray | null;
    if ((m = part.match(/^(\S+)\s+(in|notin)\s+\((.*)\)$/))) {
      reqs.push({ op: m[2] as 'in' | 'notin', key: m[1]!, values: m[3]!.split(',').map((v) => v.trim()) });
    } else if ((m = part.match(/^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      reqs.push({ op: m[2] === '!=' ? '!=' : '=', key: m[1]!, value: m[3]! });
    } else if ((m = part.match(/^!\s*(\S+)$/))) {
      reqs.push({ op: '!exists', key: m[1]! });
    } else if (KEY.test(part)) {
      reqs.push({ op: 'exists', key: part });
    } else {
      throw errors.badRequest(`unable to parse requirement: found '${part}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }
  for (const r of reqs) if (!KEY.test(r.key)) throw errors.badRequest(`unable to parse requirement: invalid label key "${r.key}"`);
  return (labels) => reqs.every((r) => matchRequirement(r, labels ?? {}));
}

function matchRequirement(r: Requirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  switch (r.op) {
    case '=':
      return has && v === r.value;
    case '!=':
      return !has || v !== r.value;
    case 'in':
      return has && r.values.includes(v!);
    case 'notin':
      return !has || !r.values.includes(v!);
    case 'exists':
      return has;
    case '!exists':
      return !has;
  }
}

/** A metav1.LabelSelector object (matchLabels + matchExpressions), as Deployments and Services carry. */
export function matchesLabelSelectorObject(
  sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (sel === undefined) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const vals = e.values ?? [];
    if (e.operator === 'In' && !(has && vals.includes(l[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && vals.includes(l[e.key]!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

export type FieldSelector = (obj: KubeObject) => boolean;

/** Fields the apiserver accepts per resource (metadata.name and metadata.namespace for all). */
const FIELD_GETTERS: Record<string, Record<string, (o: KubeObject) => string | undefined>> = {
  '*': {
    'metadata.name': (o) => o.metadata.name,
    'metadata.namespace': (o) => o.metadata.namespace ?? '',
  },
  pods: {
    'status.phase': (o) => (o.status as { phase?: string } | undefined)?.phase ?? '',
    'spec.nodeName': (o) => (o.spec as { nodeName?: string } | undefined)?.nodeName ?? '',
    'spec.restartPolicy': (o) => (o.spec as { restartPolicy?: string } | undefined)?.restartPolicy ?? '',
    'status.podIP': (o) => (o.status as { podIP?: string } | undefined)?.podIP ?? '',
  },
  events: {
    'involvedObject.name': (o) => (o as { involvedObject?: { name?: string } }).involvedObject?.name ?? '',
    'involvedObject.kind': (o) => (o as { involvedObject?: { kind?: string } }).involvedObject?.kind ?? '',
    'involvedObject.uid': (o) => (o as { involvedObject?: { uid?: string } }).involvedObject?.uid ?? '',
    'involvedObject.namespace': (o) => (o as { involvedObject?: { namespace?: string } }).involvedObject?.namespace ?? '',
    'involvedObject.apiVersion': (o) => (o as { involvedObject?: { apiVersion?: string } }).involvedObject?.apiVersion ?? '',
    'involvedObject.resourceVersion': (o) => (o as { involvedObject?: { resourceVersion?: string } }).involvedObject?.resourceVersion ?? '',
    'involvedObject.fieldPath': (o) => (o as { involvedObject?: { fieldPath?: string } }).involvedObject?.fieldPath ?? '',
    source: (o) => (o as { source?: { component?: string } }).source?.component ?? '',
    reportingComponent: (o) => (o as { reportingComponent?: string }).reportingComponent ?? '',
    reason: (o) => (o as { reason?: string }).reason ?? '',
    type: (o) => (o as { type?: string }).type ?? '',
  },
  namespaces: { 'status.phase': (o) => (o.status as { phase?: string } | undefined)?.phase ?? '' },
};

export function parseFieldSelector(text: string | undefined, plural: string): FieldSelector {
  if (text === undefined || text.trim() === '') return () => true;
  const tests: ((o: KubeObject) => boolean)[] = [];
  for (const part of splitTop(text)) {
    const m = part.match(/^([^=!]+)(==|=|!=)(.*)$/);
    if (m === null) throw errors.badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    const field = m[1]!.trim();
    const getter = FIELD_GETTERS['*']![field] ?? FIELD_GETTERS[plural]?.[field];
    if (getter === undefined) throw errors.badRequest(`field label not supported: ${field}`);
    const value = m[3]!.trim();
    tests.push(m[2] === '!=' ? (o) => getter(o) !== value : (o) => getter(o) === value);
  }
  return (o) => tests.every((t) => t(o));
}
