/**
 * The one error registry of the provisioning API. Every failure a caller can see has a
 * stable code here, with its HTTP status and title; the HTTP layer turns an ApiError into an
 * RFC 9457 problem body carrying the same code (`type` is `urn:simchain:problem:<code>`).
 * Callers branch on `code`, never on `detail`.
 */
export const API_ERRORS = Object.freeze({
  UNAUTHENTICATED: { status: 401, title: 'A valid API key is required' },
  FORBIDDEN: { status: 403, title: 'Your role may not do this' },
  ROUTE_NOT_FOUND: { status: 404, title: 'No such route' },
  TENANT_NOT_FOUND: { status: 404, title: 'No such tenant' },
  API_KEY_NOT_FOUND: { status: 404, title: 'No such API key' },
  SIM_NOT_FOUND: { status: 404, title: 'No such SIM' },
  IMPORT_NOT_FOUND: { status: 404, title: 'No such import' },
  JOB_NOT_FOUND: { status: 404, title: 'No such job' },
  BATCH_NOT_FOUND: { status: 404, title: 'No such provisioning batch' },
  DEVICE_NOT_FOUND: { status: 404, title: 'No such device' },
  VALIDATION_FAILED: { status: 400, title: 'The request does not match its schema' },
  INVALID_CURSOR: { status: 400, title: 'The pagination cursor is not valid' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'The request body is too large' },
  TENANT_EXISTS: { status: 409, title: 'A tenant with this name exists' },
  ILLEGAL_TRANSITION: { status: 409, title: 'The SIM lifecycle does not allow this from its current state' },
  ACTION_PENDING: { status: 409, title: 'Another action on this SIM is still being carried out' },
  ROTATION_OPEN: { status: 409, title: 'A keyset rotation of this SIM is still under way' },
  KEYSET_NOT_FOUND: { status: 422, title: 'The SIM has no OTA keyset with this index' },
  PROVISIONING_OPEN: { status: 409, title: 'The SIM is being provisioned; its identity push has not finished' },
  SIMS_NOT_PROVISIONABLE: { status: 409, title: 'Some SIMs cannot be provisioned now; nothing was started' },
  VENDOR_CA_MISSING: { status: 409, title: 'The card vendor\'s CA certificate is not configured for an import of these SIMs' },
  VENDOR_CA_INVALID: { status: 422, title: 'Not a CA certificate in PEM' },
  BATCH_EMPTY: { status: 422, title: 'The selection names no SIM' },
  BATCH_TOO_LARGE: { status: 422, title: 'The selection names more SIMs than one batch may hold' },
  PROVISIONING_UNAVAILABLE: { status: 503, title: 'Provisioning needs an SMSC and a chain; this server has not both' },
  ROLE_NOT_ALLOWED_FOR_TENANT: { status: 422, title: 'This role cannot be given to a key of this tenant' },
  IMPORT_REJECTED: { status: 422, title: 'The inventory file was rejected; nothing was imported' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  NOT_READY: { status: 503, title: 'The service is starting or its database is unavailable' },
  INTERNAL: { status: 500, title: 'Internal error' },
} as const);

export type ApiErrorCode = keyof typeof API_ERRORS;

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  readonly title: string;

  /**
   * @param code the registry entry
   * @param detail one human sentence about this occurrence
   * @param extensions more members of the problem body (RFC 9457 §3.2), e.g. `state`
   */
  constructor(
    readonly code: ApiErrorCode,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail ?? API_ERRORS[code].title);
    this.status = API_ERRORS[code].status;
    this.title = API_ERRORS[code].title;
  }
}

export function isApiError(e: unknown, code?: ApiErrorCode): e is ApiError {
  return e instanceof ApiError && (code === undefined || e.code === code);
}
