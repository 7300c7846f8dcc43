// Status objects the way kube-apiserver writes them (k8s.io/apimachinery/pkg/api/errors), so the
// platform's error translation is tested against the real shapes and messages.

export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

export interface StatusBody {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message: string;
  reason: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

/** An API error carried to the HTTP layer; `status` is written as the response body. */
export class ApiError extends Error {
  constructor(readonly status: StatusBody) {
    super(status.message);
  }
}

/** The resource as the apiserver names it in messages: `pods`, `podchaos.chaos-mesh.org`. */
export interface ResourceRef {
  group: string;
  plural: string;
}

export function qualified(r: ResourceRef): string {
  return r.group === '' ? r.plural : `${r.plural}.${r.group}`;
}

function status(code: number, reason: string, message: string, details?: StatusBody['details']): StatusBody {
  const body: StatusBody = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details !== undefined) body.details = details;
  return body;
}

function details(r: ResourceRef, name?: string): NonNullable<StatusBody['details']> {
  const d: NonNullable<StatusBody['details']> = {};
  if (name !== undefined) d.name = name;
  if (r.group !== '') d.group = r.group;
  d.kind = r.plural;
  return d;
}

export const errors = {
  notFound(r: ResourceRef, name: string): ApiError {
    return new ApiError(status(404, 'NotFound', `${qualified(r)} "${name}" not found`, details(r, name)));
  },
  /** An unknown path: an absent CRD group or resource. */
  noResource(): ApiError {
    return new ApiError(status(404, 'NotFound', 'the server could not find the requested resource', {}));
  },
  alreadyExists(r: ResourceRef, name: string): ApiError {
    return new ApiError(status(409, 'AlreadyExists', `${qualified(r)} "${name}" already exists`, details(r, name)));
  },
  conflict(r: ResourceRef, name: string): ApiError {
    return new ApiError(
      status(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${qualified(r)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        details(r, name),
      ),
    );
  },
  /** 403 with the message of the RBAC authorizer: who, which verb, which resource, where. */
  forbidden(r: ResourceRef, verb: string, user: string, namespace: string | undefined, name?: string, subresource?: string): ApiError {
    const what = name === undefined || name === '' ? qualified(r) : `${qualified(r)} "${name}"`;
    const res = subresource === undefined ? r.plural : `${r.plural}/${subresource}`;
    const where = namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`;
    return new ApiError(
      status(403, 'Forbidden', `${what} is forbidden: User "${user}" cannot ${verb} resource "${res}" in API group "${r.group}" ${where}`, details(r, name)),
    );
  },
  /** 403 for content created in a namespace being deleted. */
  namespaceTerminating(r: ResourceRef, name: string, namespace: string): ApiError {
    return new ApiError(
      status(
        403,
        'Forbidden',
        `${qualified(r)} "${name}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
        { ...details(r, name), causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }] },
      ),
    );
  },
  /** 422 with one cause per invalid field, message as field/errors.ToAggregate() prints it. */
  invalid(kind: string, group: string, name: string, causes: StatusCause[]): ApiError {
    const what = group === '' ? kind : `${kind}.${group}`;
    const parts = causes.map((c) => (c.field === undefined ? c.message : `${c.field}: ${c.message}`));
    const joined = parts.length === 1 ? parts[0] : `[${parts.join(', ')}]`;
    const d: NonNullable<StatusBody['details']> = { name, kind, causes };
    if (group !== '') d.group = group;
    return new ApiError(status(422, 'Invalid', `${what} "${name}" is invalid: ${joined}`, d));
  },
  badRequest(message: string): ApiError {
    return new ApiError(status(400, 'BadRequest', message));
  },
  methodNotAllowed(): ApiError {
    return new ApiError(status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {}));
  },
  unauthorized(): ApiError {
    return new ApiError(status(401, 'Unauthorized', 'Unauthorized'));
  },
  /** A watch from a resourceVersion older than the retained history (sent as an ERROR event). */
  expired(requested: string, oldest: number): ApiError {
    return new ApiError(status(410, 'Expired', `too old resource version: ${requested} (${oldest})`));
  },
  internal(message: string): ApiError {
    return new ApiError(status(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ reason: 'UnexpectedServerResponse', message }] }));
  },
  custom(code: number, reason: string, message: string, d?: StatusBody['details']): ApiError {
    return new ApiError(status(code, reason, message, d));
  },
};
