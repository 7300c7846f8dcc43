import { ExitCode } from '../../core/exit-codes.js';
import { qualifiedName, type ResourceType } from './resources.js';

/** What gameday was doing when the API answered with an error. */
export interface KubeAction {
  verb: 'create' | 'get' | 'list' | 'watch' | 'delete' | 'patch';
  resource: ResourceType;
  namespace: string;
  name?: string;
}

/** Kubernetes' Status object, as far as messages need it. */
interface Status {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason?: string; message?: string; field?: string }[] };
}

/**
 * An error from the Kubernetes API, said precisely: which verb on which resource, and what to do.
 * Exit 2 when the scenario is at fault (an object it described was invalid), else 3.
 */
export class KubeApiError extends Error {
  readonly exitCode: number;
  /** For a 404: what was missing (an object is often fine; a type or a namespace never is). */
  readonly notFound?: 'object' | 'type' | 'namespace';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly reason: string | undefined,
    scenarioAtFault = false,
    options?: { cause?: unknown; notFound?: 'object' | 'type' | 'namespace' },
  ) {
    super(message, options);
    if (options?.notFound) this.notFound = options.notFound;
    this.name = 'KubeApiError';
    this.exitCode = scenarioAtFault ? ExitCode.InvalidInput : ExitCode.HarnessError;
  }
}

/** The HTTP status of an API error: ApiException's `code`, or Watch's `statusCode`. */
export function statusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

/** ApiException.body is the raw response text: parse the Status out of it when it is one. */
export function parseStatus(body: unknown): Status | undefined {
  if (typeof body === 'object' && body !== null) return body as Status;
  if (typeof body !== 'string' || body.length === 0) return undefined;
  try {
    const parsed = JSON.parse(body) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Status) : undefined;
  } catch {
    return undefined;
  }
}

function what(a: KubeAction): string {
  return `${a.resource.kind}${a.name ? ` ${a.name}` : 's'} in namespace ${a.namespace}`;
}

/** Translates any failure of an API call into a KubeApiError (already translated errors pass through). */
export function translateApiError(err: unknown, action: KubeAction, server?: string): KubeApiError {
  if (err instanceof KubeApiError) return err;
  const code = statusOf(err);
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined) {
    const cause = (err as { cause?: { code?: string } } | undefined)?.cause?.code ?? (typeof errno === 'string' ? errno : undefined);
    return new KubeApiError(
      `cannot reach the Kubernetes API server${server ? ` ${server}` : ''} to ${action.verb} ${what(action)}: ${cause ? `${cause} ` : ''}${(err as Error)?.message ?? String(err)}`,
      undefined,
      cause,
      false,
      { cause: err },
    );
  }
  const status = parseStatus((err as { body?: unknown }).body);
  const reason = status?.reason;
  const said = status?.message ? ` (the API server said: ${status.message})` : '';
  const rbacName = qualifiedName(action.resource);
  switch (code) {
    case 401:
      return new KubeApiError(`the API server refused the credentials (401 Unauthorized) to ${action.verb} ${what(action)}: log in again or pick another context${said}`, code, reason, false, { cause: err });
    case 403:
      return new KubeApiError(
        `forbidden: gameday may not ${action.verb} ${rbacName} in namespace ${action.namespace}; grant the Role verb "${action.verb}" on resource "${action.resource.plural}" in apiGroup "${action.resource.group}"${said}`,
        code,
        reason,
        false,
        { cause: err },
      );
    case 404: {
      // A missing type answers 404 with no object name; a missing object names itself.
      const missingNamespace = status?.details?.kind === 'namespaces' || /namespaces? "[^"]*" not found/.test(status?.message ?? '');
      if (missingNamespace) return new KubeApiError(`namespace ${action.namespace} does not exist${said}`, code, reason, false, { cause: err, notFound: 'namespace' });
      const typeMissing = !status?.details?.name || (action.verb !== 'get' && action.verb !== 'delete' && action.verb !== 'patch');
      if (typeMissing && action.resource.group === 'chaos-mesh.org') {
        return new KubeApiError(
          `the API server does not serve ${action.resource.kind} (${rbacName}/${action.resource.version}): is Chaos Mesh installed? (kubectl get crd ${rbacName})${said}`,
          code,
          reason,
          false,
          { cause: err, notFound: 'type' },
        );
      }
      if (typeMissing && action.resource.group === 'k6.io') {
        return new KubeApiError(
          `the API server does not serve ${action.resource.kind} (${rbacName}/${action.resource.version}): is the k6 operator installed? (kubectl get crd ${rbacName})${said}`,
          code,
          reason,
          false,
          { cause: err, notFound: 'type' },
        );
      }
      if (typeMissing) return new KubeApiError(`the API server does not serve ${rbacName}/${action.resource.version} (needed to ${action.verb} ${what(action)})${said}`, code, reason, false, { cause: err, notFound: 'type' });
      return new KubeApiError(`${action.resource.kind} ${action.name ?? status?.details?.name} not found in namespace ${action.namespace}${said}`, code, reason, false, { cause: err, notFound: 'object' });
    }
    case 409:
      if (reason === 'AlreadyExists') {
        return new KubeApiError(
          `${action.resource.kind} ${action.name ?? status?.details?.name ?? ''} already exists in namespace ${action.namespace} (left by an earlier run? see gameday cleanup --all-runs --namespace ${action.namespace})${said}`,
          code,
          reason,
          false,
          { cause: err },
        );
      }
      return new KubeApiError(`conflict (409) on ${action.verb} ${what(action)}: it changed meanwhile${said}`, code, reason, false, { cause: err });
    case 422: {
      const causes = status?.details?.causes ?? [];
      const fields = causes.length > 0 ? causes.map((c) => `${c.field ?? '(object)'}: ${c.message ?? c.reason ?? 'invalid'}`).join('; ') : (status?.message ?? 'invalid');
      return new KubeApiError(`the API server rejected ${action.resource.kind} ${action.name ?? ''} (422 Invalid): ${fields}`, code, reason, true, { cause: err });
    }
    default:
      return new KubeApiError(`${action.verb} ${what(action)} failed: HTTP ${code}${reason ? ` ${reason}` : ''}${said}`, code, reason, false, { cause: err });
  }
}
