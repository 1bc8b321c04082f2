/**
 * One error type for the whole product. Each kind maps to one CLI exit code and one HTTP
 * status, so a failure reads the same whether it surfaces in a terminal or over the API.
 */
export type ErrorKind =
  | 'failed' // the operation ran and failed: verification, a gate, a rollout
  | 'invalid' // bad input or usage
  | 'not-found'
  | 'forbidden'
  | 'unauthenticated'
  | 'conflict';

export interface ErrorDetail {
  /** Where the problem is: a file path, a JSON pointer, a field name, a URL. */
  where?: string;
  message: string;
}

export class SluiceError extends Error {
  readonly kind: ErrorKind;
  readonly details: ErrorDetail[];

  constructor(kind: ErrorKind, message: string, details: ErrorDetail[] = []) {
    super(message);
    this.name = 'SluiceError';
    this.kind = kind;
    this.details = details;
  }

  toJSON(): { error: { kind: ErrorKind; message: string; details: ErrorDetail[] } } {
    return { error: { kind: this.kind, message: this.message, details: this.details } };
  }
}

export const invalid = (message: string, details?: ErrorDetail[]) =>
  new SluiceError('invalid', message, details);
export const notFound = (message: string, details?: ErrorDetail[]) =>
  new SluiceError('not-found', message, details);
export const failed = (message: string, details?: ErrorDetail[]) =>
  new SluiceError('failed', message, details);
export const forbidden = (message: string, details?: ErrorDetail[]) =>
  new SluiceError('forbidden', message, details);
export const conflict = (message: string, details?: ErrorDetail[]) =>
  new SluiceError('conflict', message, details);

/** DESIGN.md: 0 ok, 1 the operation failed, 2 bad input or usage, 3 not found, 4 not allowed. */
export const EXIT_CODES: Record<ErrorKind, number> = {
  failed: 1,
  invalid: 2,
  conflict: 1,
  'not-found': 3,
  forbidden: 4,
  unauthenticated: 4,
};

export const HTTP_STATUS: Record<ErrorKind, number> = {
  failed: 422,
  invalid: 400,
  conflict: 409,
  'not-found': 404,
  forbidden: 403,
  unauthenticated: 401,
};

/**
 * The kind an HTTP status stands for, for answers that carry no Sluice error object: the inverse
 * of HTTP_STATUS, plus the statuses a server or proxy uses for bad input (413, 415). Anything
 * else is a failed operation.
 */
export function errorKindForStatus(status: number): ErrorKind {
  if (status === 413 || status === 415) return 'invalid';
  for (const kind of Object.keys(HTTP_STATUS) as ErrorKind[]) if (HTTP_STATUS[kind] === status) return kind;
  return 'failed';
}

export const isSluiceError = (e: unknown): e is SluiceError => e instanceof SluiceError;
