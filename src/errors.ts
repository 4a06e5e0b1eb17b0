/**
 * Exit codes are a contract with CI pipelines (documented in README.md):
 * 0 ok, 1 an SLO or regression failed, 2 bad input or usage, 3 the environment lacks something.
 */
export const ExitCode = {
  ok: 0,
  sloFailed: 1,
  badInput: 2,
  environment: 3,
  /** A bug or an unexpected failure of a tool we drive; not part of the user contract. */
  internal: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export type ErrorCode = 'BAD_INPUT' | 'ENVIRONMENT' | 'SLO_FAILED' | 'INTERNAL';

const exitFor: Record<ErrorCode, ExitCode> = {
  BAD_INPUT: ExitCode.badInput,
  ENVIRONMENT: ExitCode.environment,
  SLO_FAILED: ExitCode.sloFailed,
  INTERNAL: ExitCode.internal,
};

/** The only error type library code throws on purpose. `hint` tells the user what to do next. */
export class DpbenchError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  /** Extra lines (for example every problem found in a scenario file). */
  readonly details: readonly string[];

  constructor(code: ErrorCode, message: string, hint: string, details: readonly string[] = []) {
    super(message);
    this.name = 'DpbenchError';
    this.code = code;
    this.hint = hint;
    this.details = details;
  }

  get exitCode(): ExitCode {
    return exitFor[this.code];
  }
}

export const badInput = (message: string, hint: string, details: readonly string[] = []) =>
  new DpbenchError('BAD_INPUT', message, hint, details);

export const environment = (message: string, hint: string) =>
  new DpbenchError('ENVIRONMENT', message, hint);

export const internal = (message: string, hint: string) => new DpbenchError('INTERNAL', message, hint);
