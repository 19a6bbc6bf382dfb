/**
 * Errors carry a stable code and the context a user needs to act on them (robot, path, field,
 * value). The CLI prints `message` as one line and exits non-zero; it never prints a stack
 * for an RShieldError.
 */
export type ErrorCode =
  | 'E_USAGE'
  | 'E_UNKNOWN_ROBOT'
  | 'E_BAD_ACTION'
  | 'E_BAD_INPUT'
  | 'E_IO'
  | 'E_DATA'
  | 'E_MODEL'
  | 'E_GRAPH'
  | 'E_CONFIG'
  | 'E_TRANSPORT'
  | 'E_SIGNATURE'
  | 'E_UNAVAILABLE';

export class RShieldError extends Error {
  readonly code: ErrorCode;
  readonly context: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, context: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RShieldError';
    this.code = code;
    this.context = context;
  }
}

export function isRShieldError(err: unknown): err is RShieldError {
  return err instanceof RShieldError;
}
