/**
 * The API's error catalogue: every error body is `{ code, message, param? }` with a code from this
 * list. Codes are a public contract (clients branch on them): never rename one, only add.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

export const API_ERRORS = {
  invalid_parameter: { status: 400, message: 'A parameter has an invalid value.' },
  unknown_parameter: { status: 400, message: 'This parameter is not accepted here.' },
  missing_parameter: { status: 400, message: 'A required parameter is missing.' },
  invalid_range: { status: 400, message: 'The start of the range is after its end.' },
  invalid_cursor: { status: 400, message: 'The pagination cursor is not one this API issued.' },
  bad_request: { status: 400, message: 'The request could not be understood.' },
  unauthorized: { status: 401, message: 'This route needs a valid token (Authorization: Bearer …).' },
  forbidden: { status: 403, message: 'This route is disabled on this server.' },
  station_not_found: { status: 404, message: 'No station has this code.' },
  system_not_found: { status: 404, message: 'No system has this id.' },
  not_found: { status: 404, message: 'No such resource.' },
  method_not_allowed: { status: 405, message: 'This method is not allowed here.' },
  not_acceptable: { status: 406, message: 'No acceptable representation.' },
  conflict: { status: 409, message: 'The resource is not in a state that allows this.' },
  subscriptions_full: { status: 409, message: 'This server keeps no more push subscriptions.' },
  payload_too_large: { status: 413, message: 'The request body is too large.' },
  unsupported_media_type: { status: 415, message: 'Unsupported content type.' },
  rate_limited: { status: 429, message: 'Too many requests: retry after the Retry-After delay.' },
  not_ready: { status: 503, message: 'The service is not ready.' },
  internal_error: { status: 500, message: 'Internal error.' },
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export interface ApiErrorBody {
  code: ApiErrorCode;
  message: string;
  param?: string;
}

/** Thrown by handlers; turned into the JSON body by the error handler. */
export class ApiError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: ApiErrorCode,
    message?: string,
    readonly param?: string,
  ) {
    super(message ?? API_ERRORS[code].message);
    this.statusCode = API_ERRORS[code].status;
  }
  body(): ApiErrorBody {
    return this.param === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, param: this.param };
  }
}

/** JSON schema of an error body, referenced by every route's responses (OpenAPI). */
export const errorBodySchema = {
  $id: 'ApiError',
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', enum: Object.keys(API_ERRORS) },
    message: { type: 'string' },
    param: { type: 'string' },
  },
} as const;

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Names the parameter an Ajv validation error is about (`/limit` → `limit`). */
function fromValidation(err: FastifyError): ApiError {
  const issue = (err.validation?.[0] ?? {}) as AjvIssue;
  const params = issue.params ?? {};
  const pathParam = (issue.instancePath ?? '').replace(/^\//, '').split('/')[0] ?? '';
  if (issue.keyword === 'additionalProperties' && typeof params['additionalProperty'] === 'string') {
    const name = params['additionalProperty'];
    return new ApiError('unknown_parameter', `Parameter "${name}" is not accepted here.`, name);
  }
  if (issue.keyword === 'required' && typeof params['missingProperty'] === 'string') {
    const name = params['missingProperty'];
    return new ApiError('missing_parameter', `Parameter "${name}" is required.`, name);
  }
  const name = pathParam || err.validationContext || 'request';
  return new ApiError('invalid_parameter', `Parameter "${name}" ${issue.message ?? 'is invalid'}.`, name);
}

/** Maps anything thrown to the catalogue; only true bugs become 500. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const fe = err as FastifyError;
  if (fe && Array.isArray(fe.validation)) return fromValidation(fe);
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 413) return new ApiError('payload_too_large');
  if (status === 415) return new ApiError('unsupported_media_type');
  if (status === 406) return new ApiError('not_acceptable');
  if (status === 404) return new ApiError('not_found');
  if (status === 405) return new ApiError('method_not_allowed');
  if (status === 429) return new ApiError('rate_limited');
  if (status >= 400 && status < 500) return new ApiError('bad_request', fe.message || undefined);
  return new ApiError('internal_error');
}

export function sendError(reply: FastifyReply, err: ApiError): FastifyReply {
  return reply
    .code(err.statusCode)
    .header('cache-control', 'no-store')
    .type('application/json')
    .send(err.body());
}

export function errorHandler(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const apiErr = toApiError(err);
  if (apiErr.statusCode >= 500) req.log.error({ err }, 'request failed');
  else req.log.debug({ code: apiErr.code, param: apiErr.param }, 'bad request');
  return sendError(reply, apiErr);
}
