// The HTTP side of the fake API server: routing like kube-apiserver (core and named groups, namespaced
// and cluster-scoped paths, subresources), discovery, list/watch with selectors, CRUD, Table output for
// kubectl, fault injection, a request log, and the pod portforward subresource over WebSocket.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { Socket, type AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { WebSocketServer, type WebSocket } from 'ws';
import { applyPatch, patchTypeOf } from './patch.js';
import { apiVersionOf, verbsOf, type ResourceDef } from './resources.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { ApiError, errors, type StatusBody } from './status.js';
import { now, type DeleteOptions, type KubeObject, type Store, type StoreEvent } from './store.js';
import { tableFor } from './table.js';
import { validateCustomObject, validateObject, type FieldValidation } from './validation.js';

/** What a request is, in the authorizer's terms. */
export interface RequestInfo {
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface RequestMatch {
  verb?: string | string[];
  group?: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export interface LoggedRequest {
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  info?: RequestInfo;
  /** The parsed request body of writes. */
  body?: unknown;
  status: number;
  userAgent: string;
  contentType?: string;
}

interface Rule {
  match: RequestMatch;
  /** How many more requests it applies to (Infinity: until removed). */
  remaining: number;
  action: { kind: 'forbid' } | { kind: 'status'; status: Partial<StatusBody> & { code: number } } | { kind: 'delay'; ms: number };
}

interface WatchConn {
  resource: ResourceDef;
  namespace?: string;
  res: ServerResponse;
  close(how: 'end' | 'destroy'): void;
}

/** A running port-forward stream, closed when its pod goes. */
interface Forward {
  podUid: string;
  close(): void;
  /** Breaks the stream as a dropped connection does (no close frame), the pod left running. */
  terminate(): void;
}

export interface Kubelet {
  /** The loopback port a pod's container port is served on, when the pod is backed by a process. */
  backingPort(pod: KubeObject, containerPort: number): number | undefined;
  /** The pod's container output (`pods/log`). */
  podLog(pod: KubeObject): string;
  /** CPU and memory of a pod (metrics API). */
  podUsage(pod: KubeObject): { cpuMillicores: number; memoryBytes: number };
}

export interface ServerOptions {
  token: string;
  user: string;
  defaultFieldValidation: FieldValidation;
  bookmarkIntervalMs: number;
  /** Serve HTTPS with this certificate (PEM), as a real apiserver does; plain HTTP without. */
  tls?: { cert: string; key: string };
}

function matches(m: RequestMatch, info: RequestInfo): boolean {
  const verbs = m.verb === undefined ? undefined : Array.isArray(m.verb) ? m.verb : [m.verb];
  if (verbs !== undefined && !verbs.includes(info.verb)) return false;
  if (m.group !== undefined && m.group !== info.group) return false;
  if (m.resource !== undefined && m.resource !== info.resource) return false;
  if (m.subresource !== undefined && m.subresource !== info.subresource) return false;
  if (m.namespace !== undefined && m.namespace !== info.namespace) return false;
  if (m.name !== undefined && m.name !== info.name) return false;
  return true;
}

function send(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function listKind(r: ResourceDef): string {
  return `${r.kind}List`;
}

export class FakeApiServer {
  readonly http: Server;
  readonly requests: LoggedRequest[] = [];
  private readonly rules: Rule[] = [];
  private readonly watches = new Set<WatchConn>();
  private readonly forwards = new Set<Forward>();
  private readonly sockets = new Set<Socket>();
  private readonly wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false) });
  /** Groups whose CRDs are "not installed": absent from discovery, 404 on their paths. */
  readonly disabledGroups = new Set<string>();
  kubelet: Kubelet | undefined;
  /** Admission checks after schema validation (Chaos Mesh's webhook). */
  admit: ((r: ResourceDef, obj: KubeObject) => void) | undefined;
  url = '';

  constructor(
    readonly store: Store,
    readonly opts: ServerOptions,
  ) {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) send(res, 500, errors.internal(String(e)).status);
        else res.destroy();
      });
    };
    this.http = opts.tls === undefined ? createServer(handler) : createTlsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler);
    this.http.on(opts.tls === undefined ? 'connection' : 'secureConnection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.http.on('upgrade', (req, socket, head) => this.upgrade(req, socket as Socket, head));
    store.subscribe((e) => this.closeForwardsOf(e));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    this.url = `${this.opts.tls === undefined ? 'http' : 'https'}://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    for (const w of [...this.watches]) w.close('destroy');
    for (const f of [...this.forwards]) f.close();
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    for (const s of this.sockets) s.destroy();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  // ---- faults -------------------------------------------------------------------------------------

  /** Every request matching gets 403 Forbidden (the RBAC message) until the returned function is called. */
  forbid(match: RequestMatch): () => void {
    return this.addRule({ match, remaining: Infinity, action: { kind: 'forbid' } });
  }

  /** The next `times` requests matching get this Status instead of being served. */
  failNext(match: RequestMatch, status: Partial<StatusBody> & { code: number }, times = 1): () => void {
    return this.addRule({ match, remaining: times, action: { kind: 'status', status } });
  }

  /** Requests matching are held `ms` before being served (a slow apiserver). */
  delay(match: RequestMatch, ms: number, times = Infinity): () => void {
    return this.addRule({ match, remaining: times, action: { kind: 'delay', ms } });
  }

  private addRule(rule: Rule): () => void {
    this.rules.push(rule);
    return () => {
      const i = this.rules.indexOf(rule);
      if (i >= 0) this.rules.splice(i, 1);
    };
  }

  /**
   * Drops open watches (of one resource / namespace, or all): `end` closes the response cleanly (as an
   * apiserver timeout does), `destroy` resets the connection. Returns how many were dropped.
   */
  dropWatches(filter: { resource?: string; namespace?: string } = {}, how: 'end' | 'destroy' = 'end'): number {
    let n = 0;
    for (const w of [...this.watches]) {
      if (filter.resource !== undefined && w.resource.plural !== filter.resource) continue;
      if (filter.namespace !== undefined && w.namespace !== filter.namespace) continue;
      w.close(how);
      n++;
    }
    return n;
  }

  /** Breaks every open port-forward stream (no close frame, code 1006), pods left as they are. Returns how many. */
  breakPortForwards(): number {
    const all = [...this.forwards];
    for (const f of all) f.terminate();
    return all.length;
  }

  /** Open watches, for assertions (a client that re-watched after a drop shows up again). */
  openWatches(resource?: string): number {
    return [...this.watches].filter((w) => resource === undefined || w.resource.plural === resource).length;
  }

  /** Whether the RBAC rules let `info` through (also answers SelfSubjectAccessReviews). */
  allowed(info: RequestInfo): boolean {
    return !this.rules.some((r) => r.action.kind === 'forbid' && matches(r.match, info));
  }

  private async applyRules(info: RequestInfo): Promise<void> {
    for (const rule of [...this.rules]) {
      if (rule.remaining <= 0 || !matches(rule.match, info)) continue;
      if (rule.action.kind === 'delay') {
        rule.remaining--;
        await new Promise((r) => setTimeout(r, (rule.action as { ms: number }).ms));
        continue;
      }
      if (rule.action.kind === 'forbid') {
        const r = this.store.resources.find((x) => x.group === info.group && x.plural === info.resource) ?? { group: info.group, plural: info.resource };
        throw errors.forbidden(r, info.verb, this.opts.user, info.namespace, info.name, info.subresource);
      }
      rule.remaining--;
      if (rule.remaining <= 0) this.rules.splice(this.rules.indexOf(rule), 1);
      const s = rule.action.status;
      throw errors.custom(s.code, s.reason ?? 'InternalError', s.message ?? `fault injected: ${s.code}`, s.details);
    }
  }

  // ---- routing ------------------------------------------------------------------------------------

  private served(): ResourceDef[] {
    return this.store.resources.filter((r) => !this.disabledGroups.has(r.group));
  }

  /** Parses an API path into the resource, namespace, name and subresource it addresses. */
  private route(method: string, segs: string[], query: URLSearchParams): { info: RequestInfo; resource: ResourceDef; collection: boolean } | undefined {
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api' && segs.length >= 2) {
      group = '';
      version = segs[1]!;
      rest = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length >= 3) {
      group = segs[1]!;
      version = segs[2]!;
      rest = segs.slice(3);
    } else return undefined;
    let watchPath = false;
    if (rest[0] === 'watch') {
      watchPath = true;
      rest = rest.slice(1);
    }
    const inGroup = this.served().filter((r) => r.group === group && r.version === version);
    if (inGroup.length === 0) return undefined;
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3 && inGroup.some((r) => r.namespaced && r.plural === rest[2])) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const resource = inGroup.find((r) => r.plural === rest[0]);
    if (resource === undefined || rest.length > 3) return undefined;
    if (namespace !== undefined && !resource.namespaced) return undefined;
    const name = rest[1];
    const subresource = rest[2];
    if (subresource !== undefined && !resource.subresources.includes(subresource)) return undefined;
    const collection = name === undefined;
    const watch = watchPath || query.get('watch') === 'true' || query.get('watch') === '1';
    const verb =
      method === 'GET'
        ? collection
          ? watch
            ? 'watch'
            : 'list'
          : watch
            ? 'watch'
            : 'get'
        : method === 'POST'
          ? 'create'
          : method === 'PUT'
            ? 'update'
            : method === 'PATCH'
              ? 'patch'
              : method === 'DELETE'
                ? collection
                  ? 'deletecollection'
                  : 'delete'
                : 'unknown';
    const info: RequestInfo = { verb, group, version, resource: resource.plural };
    if (subresource !== undefined) info.subresource = subresource;
    if (namespace !== undefined) info.namespace = namespace;
    if (name !== undefined) info.name = name;
    return { info, resource, collection };
  }

  private authenticated(req: IncomingMessage): boolean {
    // kubectl sends no credentials over plain HTTP: without TLS a request without any is let in
    // (as the old insecure port did); a wrong token is refused either way.
    if (this.opts.tls === undefined && req.headers.authorization === undefined) return true;
    return req.headers.authorization === `Bearer ${this.opts.token}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = url.searchParams;
    const segs = url.pathname.split('/').filter((s) => s !== '');
    const entry: LoggedRequest = {
      at: Date.now(),
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(query),
      status: 0,
      userAgent: String(req.headers['user-agent'] ?? ''),
    };
    if (req.headers['content-type'] !== undefined) entry.contentType = req.headers['content-type'];
    this.requests.push(entry);
    res.on('finish', () => (entry.status = res.statusCode));
    if (!this.authenticated(req)) return send(res, 401, errors.unauthorized().status);
    try {
      const p = url.pathname.replace(/\/$/, '');
      const discovery = this.discovery(p);
      if (discovery !== undefined) {
        if (typeof discovery === 'string') {
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end(discovery);
        } else send(res, 200, discovery);
        return;
      }
      if (segs[0] === 'openapi') return this.openapi(segs, res);
      const routed = this.route(req.method ?? 'GET', segs, query);
      if (routed === undefined) throw errors.noResource();
      const { info, resource, collection } = routed;
      entry.info = info;
      const body = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(req.method ?? '') ? await this.readBody(req) : undefined;
      if (body !== undefined) entry.body = body;
      await this.applyRules(info);
      await this.serve(req, res, info, resource, collection, query, body);
    } catch (e) {
      if (e instanceof ApiError) {
        const retry = e.status.details?.retryAfterSeconds;
        return send(res, e.status.code, e.status, retry === undefined ? {} : { 'Retry-After': String(retry) });
      }
      throw e;
    }
  }

  private async readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > 3 * 1024 * 1024) throw errors.custom(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
      chunks.push(c as Buffer);
    }
    const ct = String(req.headers['content-type'] ?? '');
    // JSON and YAML only: a protobuf/CBOR body gets 415, on which client-go falls back to JSON.
    if (ct !== '' && !/json|yaml/.test(ct)) {
      throw errors.custom(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml`, {});
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') return undefined;
    try {
      return ct.includes('yaml') ? parseYaml(text) : JSON.parse(text);
    } catch (e) {
      throw errors.badRequest(`the object provided is unrecognized (must be of type Object): couldn't get version/kind; json parse error: ${(e as Error).message}`);
    }
  }

  private fieldValidation(query: URLSearchParams): FieldValidation {
    const v = query.get('fieldValidation');
    if (v === null || v === '') return this.opts.defaultFieldValidation;
    if (v !== 'Strict' && v !== 'Warn' && v !== 'Ignore') throw errors.badRequest(`fieldValidation parameter unsupported: ${v}`);
    return v;
  }

  private async serve(
    req: IncomingMessage,
    res: ServerResponse,
    info: RequestInfo,
    r: ResourceDef,
    collection: boolean,
    query: URLSearchParams,
    body: unknown,
  ): Promise<void> {
    const table = String(req.headers.accept ?? '').includes('as=Table');
    const dryRun = query.getAll('dryRun').includes('All');
    const ns = info.namespace;
    if (r.plural === 'selfsubjectaccessreviews' && info.verb === 'create') {
      const attrs = ((body as { spec?: { resourceAttributes?: Record<string, string> } })?.spec?.resourceAttributes ?? {}) as Record<string, string>;
      const asked: RequestInfo = { verb: attrs.verb ?? '', group: attrs.group ?? '', version: attrs.version ?? '', resource: attrs.resource ?? '' };
      if (attrs.subresource) asked.subresource = attrs.subresource;
      if (attrs.namespace) asked.namespace = attrs.namespace;
      if (attrs.name) asked.name = attrs.name;
      const allowed = this.allowed(asked);
      return send(res, 201, { ...(body as object), apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: { creationTimestamp: null }, status: allowed ? { allowed: true, reason: 'RBAC: allowed' } : { allowed: false } });
    }
    if (info.subresource === 'portforward') throw errors.badRequest('Upgrade request required');
    if (r.group === 'metrics.k8s.io') return this.metrics(res, info, r, query);
    if (info.subresource === 'log') {
      const pod = this.store.mustGet(r, ns, info.name!);
      let text = this.kubelet?.podLog(pod) ?? '';
      const tail = Number(query.get('tailLines') ?? 'NaN');
      if (Number.isInteger(tail) && tail >= 0) text = text.split('\n').filter((l, i, a) => i < a.length - 1 || l !== '').slice(-tail).join('\n') + (tail > 0 && text !== '' ? '\n' : '');
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(text);
      return;
    }
    switch (info.verb) {
      case 'list': {
        const { items, rv, cont } = this.page(r, ns, query);
        if (table) return send(res, 200, tableFor(r, items, rv, query.get('includeObject'), true));
        return send(res, 200, { apiVersion: apiVersionOf(r), kind: listKind(r), metadata: { resourceVersion: rv, ...(cont === undefined ? {} : { continue: cont }) }, items });
      }
      case 'watch':
        return this.watch(req, res, r, ns, query, table, info.name);
      case 'get': {
        const obj = this.store.mustGet(r, ns, info.name!);
        if (info.subresource === 'scale') return send(res, 200, scaleOf(obj));
        if (table) return send(res, 200, tableFor(r, [obj], String(this.store.resourceVersion), query.get('includeObject'), true));
        return send(res, 200, obj);
      }
      case 'create': {
        const obj = this.objectFromBody(r, body, ns);
        const warnings = this.validate(r, obj, query);
        const created = dryRun ? this.dryCreate(r, obj) : this.store.create(r, this.prepare(r, obj));
        return send(res, 201, created, warningHeaders(warnings));
      }
      case 'update': {
        const obj = this.objectFromBody(r, body, ns);
        if (obj.metadata.name !== info.name) throw errors.badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${info.name})`);
        if (info.subresource === 'scale') return send(res, 200, this.scale(r, ns, info.name!, (body as { spec?: { replicas?: number } })?.spec?.replicas));
        const stored = this.store.mustGet(r, ns, info.name!);
        if (info.subresource === undefined) defaults(r, obj, stored);
        const warnings = info.subresource === 'status' ? [] : this.validate(r, obj, query);
        if (info.subresource === undefined) validateUpdate(r, stored, obj);
        const out = dryRun ? obj : this.store.update(r, obj, info.subresource === undefined ? {} : { subresource: info.subresource });
        return send(res, 200, out, warningHeaders(warnings));
      }
      case 'patch': {
        const type = patchTypeOf(req.headers['content-type']);
        const cur = this.store.get(r, ns, info.name!);
        if (cur === undefined) {
          if (type === 'apply') {
            const obj = this.objectFromBody(r, body, ns);
            const warnings = this.validate(r, obj, query);
            return send(res, 201, dryRun ? this.dryCreate(r, obj) : this.store.create(r, this.prepare(r, obj)), warningHeaders(warnings));
          }
          throw errors.notFound(r, info.name!);
        }
        if (info.subresource === 'scale') {
          const patched = applyPatch(type, scaleOf(cur), body, false) as { spec?: { replicas?: number } };
          return send(res, 200, this.scale(r, ns, info.name!, patched.spec?.replicas));
        }
        const next = applyPatch(type, cur, body, r.custom === true) as KubeObject;
        if (next === null || typeof next !== 'object' || next.metadata?.name !== cur.metadata.name) throw errors.badRequest('the patch changes the object name');
        // A patch does not carry a precondition unless it sets a resourceVersion itself.
        const patchRv = (body as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
        next.metadata.resourceVersion = patchRv ?? cur.metadata.resourceVersion;
        if (info.subresource === undefined) defaults(r, next, cur);
        const warnings = info.subresource === 'status' ? [] : this.validate(r, next, query);
        if (info.subresource === undefined) validateUpdate(r, cur, next);
        const out = dryRun ? next : this.store.update(r, next, info.subresource === undefined ? {} : { subresource: info.subresource });
        return send(res, 200, out, warningHeaders(warnings));
      }
      case 'delete': {
        const opts = deleteOptions(body, query);
        if (dryRun) return send(res, 200, this.store.mustGet(r, ns, info.name!));
        const { object, gone } = this.store.delete(r, ns, info.name!, opts);
        return send(res, gone ? 200 : 202, object);
      }
      case 'deletecollection': {
        const opts = deleteOptions(body, query);
        const items = this.select(r, ns, query);
        if (!dryRun) {
          for (const o of items) {
            try {
              this.store.delete(r, o.metadata.namespace, o.metadata.name, opts);
            } catch {
              // gone meanwhile
            }
          }
        }
        return send(res, 200, { apiVersion: apiVersionOf(r), kind: listKind(r), metadata: { resourceVersion: String(this.store.resourceVersion) }, items });
      }
      default:
        throw errors.methodNotAllowed();
    }
  }

  /** metrics-server's PodMetrics/NodeMetrics, computed from the running pods (usage in nanocores and Ki). */
  private metrics(res: ServerResponse, info: RequestInfo, r: ResourceDef, query: URLSearchParams): void {
    if (info.verb !== 'get' && info.verb !== 'list') throw errors.methodNotAllowed();
    const pods = this.store.resource('', 'pods');
    const running = this.select(pods, info.namespace, query).filter((p) => (p.status as { phase?: string } | undefined)?.phase === 'Running' && p.metadata.deletionTimestamp === undefined);
    const ts = now();
    const quantity = (u: { cpuMillicores: number; memoryBytes: number }): { cpu: string; memory: string } => ({
      cpu: `${Math.round(u.cpuMillicores * 1e6)}n`,
      memory: `${Math.round(u.memoryBytes / 1024)}Ki`,
    });
    if (r.plural === 'nodes') {
      const total = running.map((p) => this.kubelet?.podUsage(p) ?? { cpuMillicores: 0, memoryBytes: 0 }).reduce((a, b) => ({ cpuMillicores: a.cpuMillicores + b.cpuMillicores, memoryBytes: a.memoryBytes + b.memoryBytes }), { cpuMillicores: 0, memoryBytes: 0 });
      const node = { kind: 'NodeMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: 'fake-node-1', creationTimestamp: ts }, timestamp: ts, window: '10s', usage: quantity(total) };
      if (info.verb === 'get') {
        if (info.name !== 'fake-node-1') throw errors.notFound(r, info.name!);
        return send(res, 200, node);
      }
      return send(res, 200, { kind: 'NodeMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items: [node] });
    }
    const item = (p: KubeObject): unknown => {
      const u = this.kubelet?.podUsage(p) ?? { cpuMillicores: 0, memoryBytes: 0 };
      const containers = ((p.spec?.containers ?? []) as { name: string }[]).map((c, i) => ({ name: c.name, usage: quantity(i === 0 ? u : { cpuMillicores: 0, memoryBytes: 0 }) }));
      return { kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: p.metadata.name, namespace: p.metadata.namespace, creationTimestamp: ts, labels: p.metadata.labels ?? {} }, timestamp: ts, window: '10s', containers };
    };
    if (info.verb === 'get') {
      const p = running.find((x) => x.metadata.name === info.name);
      if (p === undefined) throw errors.notFound(r, info.name!);
      return send(res, 200, item(p));
    }
    return send(res, 200, { kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items: running.map(item) });
  }

  /**
   * A list, in pages when `limit` is given: `continue` carries the list's resourceVersion and the last
   * key served; a token older than the watch history gets 410 Expired, as etcd compaction does.
   * `resourceVersion` + `resourceVersionMatch=Exact` older than the history gets 410 too.
   */
  private page(r: ResourceDef, ns: string | undefined, query: URLSearchParams): { items: KubeObject[]; rv: string; cont?: string } {
    const asked = query.get('resourceVersion');
    if (asked !== null && query.get('resourceVersionMatch') === 'Exact' && Number(asked) < this.store.oldestWatchableRv) {
      throw errors.expired(asked, this.store.oldestWatchableRv);
    }
    let items = this.select(r, ns, query);
    let rv = String(this.store.resourceVersion);
    const token = query.get('continue');
    if (token !== null && token !== '') {
      let parsed: { rv: string; after: string };
      try {
        parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { rv: string; after: string };
      } catch {
        throw errors.badRequest(`continue key is not valid: illegal base64 data at input byte 0`);
      }
      if (Number(parsed.rv) < this.store.oldestWatchableRv) {
        throw errors.custom(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
      }
      rv = parsed.rv;
      items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > parsed.after);
    }
    const limit = Number(query.get('limit') ?? '0');
    if (!Number.isInteger(limit) || limit <= 0 || items.length <= limit) return { items, rv };
    const pageItems = items.slice(0, limit);
    const last = pageItems[pageItems.length - 1]!;
    return { items: pageItems, rv, cont: Buffer.from(JSON.stringify({ rv, after: `${last.metadata.namespace ?? ''}/${last.metadata.name}` })).toString('base64url') };
  }

  private select(r: ResourceDef, ns: string | undefined, query: URLSearchParams): KubeObject[] {
    const ls = parseLabelSelector(query.get('labelSelector') ?? undefined);
    const fs = parseFieldSelector(query.get('fieldSelector') ?? undefined, r.plural);
    return this.store.list(r, ns).filter((o) => ls(o.metadata.labels) && fs(o));
  }

  private objectFromBody(r: ResourceDef, body: unknown, ns: string | undefined): KubeObject {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('the object provided is unrecognized (must be of type Object)');
    const obj = structuredClone(body) as KubeObject;
    if (obj.kind !== undefined && obj.kind !== r.kind) {
      throw errors.badRequest(`the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${apiVersionOf(r)})`);
    }
    if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersionOf(r)) {
      throw errors.badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${apiVersionOf(r)})`);
    }
    obj.apiVersion = apiVersionOf(r);
    obj.kind = r.kind;
    obj.metadata ??= { name: '' };
    if (r.namespaced) {
      if (obj.metadata.namespace !== undefined && obj.metadata.namespace !== ns) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      if (ns !== undefined) obj.metadata.namespace = ns;
    }
    return obj;
  }

  /** Defaults the apiserver fills in (so the object read back looks like a real one). */
  /** Defaults and initial status of a new object (so the object read back looks like a real one). */
  private prepare(r: ResourceDef, obj: KubeObject): KubeObject {
    defaults(r, obj);
    if (r.plural === 'namespaces') obj.status = { phase: 'Active' };
    if (r.plural === 'pods') obj.status = { phase: 'Pending', qosClass: 'BestEffort' };
    if (['deployments', 'statefulsets', 'replicasets', 'jobs'].includes(r.plural)) obj.status = {};
    if (r.plural === 'services') obj.status = { loadBalancer: {} };
    return obj;
  }

  private validate(r: ResourceDef, obj: KubeObject, query: URLSearchParams): string[] {
    validateObject(r, obj);
    const warnings = validateCustomObject(r, obj, this.fieldValidation(query));
    this.admit?.(r, obj);
    return warnings;
  }

  private dryCreate(r: ResourceDef, obj: KubeObject): KubeObject {
    const out = this.prepare(r, obj);
    out.metadata.uid = '00000000-0000-0000-0000-000000000000';
    out.metadata.creationTimestamp = now();
    out.metadata.generation = 1;
    if (this.store.get(r, obj.metadata.namespace, obj.metadata.name) !== undefined) throw errors.alreadyExists(r, obj.metadata.name);
    return out;
  }

  private scale(r: ResourceDef, ns: string | undefined, name: string, replicas: number | undefined): unknown {
    const cur = this.store.mustGet(r, ns, name);
    if (replicas !== undefined) {
      (cur.spec ??= {}).replicas = replicas;
      delete cur.metadata.resourceVersion;
      return scaleOf(this.store.update(r, cur));
    }
    return scaleOf(cur);
  }

  // ---- watch --------------------------------------------------------------------------------------

  private watch(req: IncomingMessage, res: ServerResponse, r: ResourceDef, ns: string | undefined, query: URLSearchParams, table: boolean, name?: string): void {
    const ls = parseLabelSelector(query.get('labelSelector') ?? undefined);
    let fs = parseFieldSelector(query.get('fieldSelector') ?? undefined, r.plural);
    if (name !== undefined) {
      const byField = fs;
      fs = (o) => o.metadata.name === name && byField(o);
    }
    const inScope = (o: KubeObject): boolean => (!r.namespaced || ns === undefined || o.metadata.namespace === ns) && ls(o.metadata.labels) && fs(o);
    const rvParam = query.get('resourceVersion') ?? '';
    const bookmarks = query.get('allowWatchBookmarks') === 'true';
    const includeObject = query.get('includeObject');
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    let first = true;
    const write = (type: string, object: unknown): void => {
      if (res.writableEnded || res.destroyed) return;
      let out = object;
      if (table && type !== 'ERROR' && type !== 'BOOKMARK') {
        out = tableFor(r, [object as KubeObject], (object as KubeObject).metadata.resourceVersion ?? '', includeObject, first);
        first = false;
      }
      res.write(JSON.stringify({ type, object: out }) + '\n');
    };
    if (rvParam !== '' && rvParam !== '0') {
      const asked = Number(rvParam);
      if (!Number.isFinite(asked)) {
        write('ERROR', errors.badRequest(`invalid resource version: ${rvParam}`).status);
        res.end();
        return;
      }
      if (asked < this.store.oldestWatchableRv) {
        write('ERROR', errors.expired(rvParam, this.store.oldestWatchableRv).status);
        res.end();
        return;
      }
    }
    const deliver = (e: StoreEvent): void => {
      if (r.plural !== e.resource.plural || r.group !== e.resource.group) return;
      const now = inScope(e.object);
      const before = e.old !== undefined && inScope(e.old);
      if (e.type === 'MODIFIED') {
        if (now && before) write('MODIFIED', e.object);
        else if (now) write('ADDED', e.object);
        else if (before) write('DELETED', e.object);
      } else if (now) write(e.type, e.object);
    };
    if (rvParam === '' || rvParam === '0') {
      for (const o of this.store.list(r, ns)) if (inScope(o)) write('ADDED', o);
      if (bookmarks && query.get('sendInitialEvents') === 'true') {
        write('BOOKMARK', { kind: r.kind, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(this.store.resourceVersion), annotations: { 'k8s.io/initial-events-end': 'true' } } });
      }
    } else {
      for (const e of this.store.eventsSince(Number(rvParam))) deliver(e);
    }
    const unsubscribe = this.store.subscribe(deliver);
    const timers: NodeJS.Timeout[] = [];
    if (bookmarks) {
      timers.push(
        setInterval(() => write('BOOKMARK', { kind: r.kind, apiVersion: apiVersionOf(r), metadata: { resourceVersion: String(this.store.resourceVersion) } }), this.opts.bookmarkIntervalMs),
      );
    }
    const timeoutSeconds = Number(query.get('timeoutSeconds') ?? '0');
    const conn: WatchConn = {
      resource: r,
      res,
      close: (how) => {
        cleanup();
        if (how === 'destroy') res.destroy();
        else res.end();
      },
    };
    if (ns !== undefined) conn.namespace = ns;
    if (timeoutSeconds > 0) timers.push(setTimeout(() => conn.close('end'), timeoutSeconds * 1000));
    const cleanup = (): void => {
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      this.watches.delete(conn);
    };
    this.watches.add(conn);
    req.on('close', cleanup);
    res.on('close', cleanup);
  }

  // ---- discovery ----------------------------------------------------------------------------------

  private discovery(p: string): unknown {
    const served = this.served();
    const groups = [...new Set(served.filter((r) => r.group !== '').map((r) => r.group))];
    const versionOf = (g: string): string => served.find((r) => r.group === g)!.version;
    const groupDoc = (g: string): unknown => ({
      name: g,
      versions: [{ groupVersion: `${g}/${versionOf(g)}`, version: versionOf(g) }],
      preferredVersion: { groupVersion: `${g}/${versionOf(g)}`, version: versionOf(g) },
    });
    if (p === '/version') {
      return { major: '1', minor: '32', gitVersion: 'v1.32.0-gameday-fake', gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean', buildDate: '2026-01-01T00:00:00Z', goVersion: 'go1.23.0', compiler: 'gc', platform: 'linux/amd64' };
    }
    if (p === '/healthz' || p === '/readyz' || p === '/livez') return 'ok';
    if (p === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] };
    if (p === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(groupDoc) };
    const m = p.match(/^\/apis\/([^/]+)$/);
    if (m !== null && groups.includes(m[1]!)) return { kind: 'APIGroup', apiVersion: 'v1', ...(groupDoc(m[1]!) as object) };
    const list = (g: string, v: string): unknown => ({
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: g === '' ? v : `${g}/${v}`,
      resources: served
        .filter((r) => r.group === g && r.version === v)
        .flatMap((r) => [
          { name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: verbsOf(r), ...(r.shortNames?.length ? { shortNames: r.shortNames } : {}), ...(r.categories?.length ? { categories: r.categories } : {}) },
          ...r.subresources.map((s) => ({ name: `${r.plural}/${s}`, singularName: '', namespaced: r.namespaced, kind: s === 'scale' ? 'Scale' : s === 'portforward' ? 'PodPortForwardOptions' : r.kind, verbs: s === 'portforward' ? ['create', 'get'] : ['get', 'patch', 'update'] })),
        ]),
    });
    if (p === '/api/v1') return list('', 'v1');
    const gv = p.match(/^\/apis\/([^/]+)\/([^/]+)$/);
    if (gv !== null && served.some((r) => r.group === gv[1] && r.version === gv[2])) return list(gv[1]!, gv[2]!);
    return undefined;
  }

  /**
   * A minimal OpenAPI v3: the index and, per group-version, the PATCH operations with their
   * `fieldValidation` parameter, which is what kubectl looks for before it leaves validation to the
   * server. No schemas, so kubectl computes apply patches from its built-in types.
   */
  private openapi(segs: string[], res: ServerResponse): void {
    const served = this.served();
    const gvs = [...new Set(served.map((r) => (r.group === '' ? `api/${r.version}` : `apis/${r.group}/${r.version}`)))];
    if (segs.length === 2 && segs[1] === 'v3') {
      return send(res, 200, { paths: Object.fromEntries(gvs.map((g) => [g, { serverRelativeURL: `/openapi/v3/${g}?hash=0` }])) });
    }
    const gv = segs.slice(2).join('/');
    if (segs[1] === 'v3' && gvs.includes(gv)) {
      const paths: Record<string, unknown> = {};
      for (const r of served.filter((x) => (x.group === '' ? `api/${x.version}` : `apis/${x.group}/${x.version}`) === gv)) {
        const base = `/${gv}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}/{name}`;
        paths[base] = {
          patch: {
            'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
            'x-kubernetes-action': 'patch',
            parameters: [
              { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
              { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
              { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
            ],
            requestBody: { content: { 'application/json-patch+json': { schema: {} }, 'application/merge-patch+json': { schema: {} }, 'application/apply-patch+yaml': { schema: {} } } },
            responses: {},
          },
        };
      }
      return send(res, 200, { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0' }, paths, components: { schemas: {} } });
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.end('404 page not found\n');
  }

  // ---- port-forward -------------------------------------------------------------------------------

  private closeForwardsOf(e: StoreEvent): void {
    if (e.resource.plural !== 'pods') return;
    if (e.type === 'DELETED' || e.object.metadata.deletionTimestamp !== undefined) {
      for (const f of [...this.forwards]) if (f.podUid === e.object.metadata.uid) f.close();
    }
  }

  /** Writes an HTTP error on a socket that asked for an upgrade. */
  private refuseUpgrade(socket: Socket, e: ApiError, entry?: LoggedRequest): void {
    if (entry !== undefined) entry.status = e.status.code;
    const text = JSON.stringify(e.status);
    socket.end(`HTTP/1.1 ${e.status.code} ${e.status.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  }

  private upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const segs = url.pathname.split('/').filter((s) => s !== '');
    const entry: LoggedRequest = { at: Date.now(), method: 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), status: 0, userAgent: String(req.headers['user-agent'] ?? '') };
    this.requests.push(entry);
    socket.once('close', () => {
      if (entry.status === 0) entry.status = 101;
    });
    if (!this.authenticated(req)) return this.refuseUpgrade(socket, errors.unauthorized(), entry);
    const routed = this.route('GET', segs, url.searchParams);
    if (routed === undefined || routed.info.resource !== 'pods' || routed.info.subresource !== 'portforward') return this.refuseUpgrade(socket, errors.noResource(), entry);
    const info = routed.info;
    entry.info = info;
    this.applyRules(info)
      .then(() => {
        const pod = this.store.get(routed.resource, info.namespace, info.name!);
        if (pod === undefined) throw errors.notFound(routed.resource, info.name!);
        if ((pod.status as { phase?: string } | undefined)?.phase !== 'Running' || pod.metadata.deletionTimestamp !== undefined) {
          throw errors.badRequest(`unable to upgrade connection: pod ${info.name} is not running`);
        }
        const ports = url.searchParams
          .getAll('ports')
          .flatMap((p) => p.split(','))
          .map(Number);
        if (ports.length === 0 || ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) throw errors.badRequest('at least one port must be specified');
        this.wss.handleUpgrade(req, socket, head, (ws) => this.forward(ws, pod, ports));
      })
      .catch((e: unknown) => this.refuseUpgrade(socket, e instanceof ApiError ? e : errors.internal(String(e)), entry));
  }

  /**
   * The kubelet's WebSocket port-forward (v4.channel.k8s.io): channels 2i (data) and 2i+1 (error) per
   * requested port, each opened by a frame carrying the port as 2 little-endian bytes; data frames are
   * the channel byte followed by the payload, both ways.
   */
  private forward(ws: WebSocket, pod: KubeObject, ports: number[]): void {
    const conns: Socket[] = [];
    const forward: Forward = {
      podUid: pod.metadata.uid!,
      close: () => {
        this.forwards.delete(forward);
        for (const c of conns) c.destroy();
        if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close();
      },
      terminate: () => {
        this.forwards.delete(forward);
        for (const c of conns) c.destroy();
        ws.terminate();
      },
    };
    this.forwards.add(forward);
    ws.on('close', () => forward.close());
    ws.on('error', () => forward.close());
    ports.forEach((port, i) => {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16LE(port, 0);
      ws.send(Buffer.concat([Buffer.from([2 * i]), prefix]));
      ws.send(Buffer.concat([Buffer.from([2 * i + 1]), prefix]));
    });
    ports.forEach((port, i) => {
      const target = this.kubelet?.backingPort(pod, port);
      const fail = (why: string): void => {
        const msg = `an error occurred forwarding ${port} -> ${port}: error forwarding port ${port} to pod ${pod.metadata.uid}, uid : ${why}`;
        if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([2 * i + 1]), Buffer.from(msg)]));
        forward.close();
      };
      if (target === undefined) return fail(`failed to execute portforward in network namespace: dial tcp4 127.0.0.1:${port}: connect: connection refused`);
      const conn: Socket = new Socket();
      conns.push(conn);
      const pending: Buffer[] = [];
      let connected = false;
      conn.connect(target, '127.0.0.1', () => {
        connected = true;
        for (const b of pending.splice(0)) conn.write(b);
      });
      conn.on('data', (d: Buffer) => {
        if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([2 * i]), d]));
      });
      conn.on('error', (e) => fail(`dial tcp4 127.0.0.1:${port}: ${e.message}`));
      conn.on('close', () => forward.close());
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        const buf = isBinary ? data : Buffer.from(data);
        if (buf.length < 1 || buf[0] !== 2 * i) return;
        const payload = buf.subarray(1);
        if (connected) conn.write(payload);
        else pending.push(payload);
      });
    });
  }
}

/**
 * The apiserver's defaulting, on create and on update (`cur`: the stored object, whose allocated
 * values — a Service's clusterIP, a pod's nodeName, a namespace's finalizers — a replace keeps).
 */
function defaults(r: ResourceDef, obj: KubeObject, cur?: KubeObject): void {
  const spec = (obj.spec ??= {}) as Record<string, unknown>;
  const old = (cur?.spec ?? {}) as Record<string, unknown>;
  switch (r.plural) {
    case 'namespaces':
      obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
      spec.finalizers = ['kubernetes'];
      break;
    case 'pods':
      spec.restartPolicy ??= 'Always';
      spec.terminationGracePeriodSeconds ??= 30;
      spec.dnsPolicy ??= 'ClusterFirst';
      spec.schedulerName ??= 'default-scheduler';
      if (old.nodeName !== undefined) spec.nodeName ??= old.nodeName;
      break;
    case 'deployments':
      spec.replicas ??= 1;
      spec.strategy ??= { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } };
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      break;
    case 'replicasets':
      spec.replicas ??= 1;
      break;
    case 'statefulsets':
      spec.replicas ??= 1;
      spec.podManagementPolicy ??= 'OrderedReady';
      spec.updateStrategy ??= { type: 'RollingUpdate', rollingUpdate: { partition: 0 } };
      spec.revisionHistoryLimit ??= 10;
      break;
    case 'jobs':
      spec.backoffLimit ??= 6;
      spec.completions ??= 1;
      spec.parallelism ??= 1;
      break;
    case 'services':
      spec.type ??= 'ClusterIP';
      spec.clusterIP ??= old.clusterIP ?? `10.96.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
      spec.clusterIPs ??= old.clusterIPs ?? [spec.clusterIP];
      spec.sessionAffinity ??= 'None';
      for (const p of (spec.ports ?? []) as Record<string, unknown>[]) {
        p.protocol ??= 'TCP';
        p.targetPort ??= p.port;
      }
      break;
  }
  if (Object.keys(spec).length === 0 && r.custom !== true && !['pods', 'services'].includes(r.plural)) delete obj.spec;
}

/** Fields the apiserver refuses to change on update (the ones an apply of changed manifests can trip on). */
function validateUpdate(r: ResourceDef, cur: KubeObject, next: KubeObject): void {
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const spec = (o: KubeObject): Record<string, unknown> => (o.spec ?? {}) as Record<string, unknown>;
  const immutable = (field: string, a: unknown, b: unknown): void => {
    if (!same(a, b)) throw errors.invalid(r.kind, r.group, cur.metadata.name, [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(b)}: field is immutable`, field }]);
  };
  if (r.plural === 'deployments' || r.plural === 'replicasets') immutable('spec.selector', spec(cur).selector, spec(next).selector);
  if (r.plural === 'jobs') {
    immutable('spec.selector', spec(cur).selector, spec(next).selector);
    immutable('spec.template', spec(cur).template, spec(next).template);
    immutable('spec.completions', spec(cur).completions, spec(next).completions);
  }
  if (r.plural === 'statefulsets') {
    const allowed = new Set(['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds']);
    const changed = [...new Set([...Object.keys(spec(cur)), ...Object.keys(spec(next))])].filter((k) => !allowed.has(k) && !same(spec(cur)[k], spec(next)[k]));
    if (changed.length > 0) {
      throw errors.invalid(r.kind, r.group, cur.metadata.name, [
        { reason: 'FieldValueForbidden', message: "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden", field: 'spec' },
      ]);
    }
  }
  if (r.plural === 'services' && spec(next).clusterIP !== undefined) immutable('spec.clusterIP', spec(cur).clusterIP, spec(next).clusterIP);
}

function warningHeaders(warnings: string[]): Record<string, string> {
  return warnings.length === 0 ? {} : { Warning: warnings.map((w) => `299 - "${w.replaceAll('"', '\\"')}"`).join(', ') };
}

function deleteOptions(body: unknown, query: URLSearchParams): DeleteOptions {
  const b = (body ?? {}) as DeleteOptions & { orphanDependents?: boolean };
  const opts: DeleteOptions = {};
  const grace = query.get('gracePeriodSeconds') ?? (b.gracePeriodSeconds === undefined ? null : String(b.gracePeriodSeconds));
  if (grace !== null) opts.gracePeriodSeconds = Number(grace);
  const prop = query.get('propagationPolicy') ?? b.propagationPolicy ?? (b.orphanDependents === true ? 'Orphan' : undefined);
  if (prop !== undefined && prop !== null) {
    if (!['Background', 'Foreground', 'Orphan'].includes(prop)) throw errors.badRequest(`propagationPolicy: Unsupported value: "${prop}"`);
    opts.propagationPolicy = prop as DeleteOptions['propagationPolicy'];
  }
  if (b.preconditions !== undefined) opts.preconditions = b.preconditions;
  return opts;
}

function scaleOf(obj: KubeObject): unknown {
  const spec = (obj.spec ?? {}) as { replicas?: number; selector?: { matchLabels?: Record<string, string> } };
  const status = (obj.status ?? {}) as { replicas?: number };
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion, creationTimestamp: obj.metadata.creationTimestamp },
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status.replicas ?? 0, selector: Object.entries(spec.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',') },
  };
}
