import type { ErrorCode, FailureCode, FailureScope } from './error-codes.js';

// The failure vocabulary lives in the catalog; re-exported beside the classes that carry it.
export type { ErrorCode, FailureCode, FailureScope };

export interface RotatorErrorOptions extends ErrorOptions {
  /**
   * Machine-readable code: Atlas's `errorCode` when Atlas gave one, otherwise ours; either way
   * from the catalog (`error-codes.ts`) or, for an Atlas code it does not list, `atlasErrorCode`.
   */
  code: FailureCode;
  /** What the operator should do next. */
  remedy: string;
  /** @default 'user' */
  scope?: FailureScope;
}

/**
 * Base class of every error this project raises on purpose. Messages never carry secret
 * material: callers build them from names, codes and numbers only.
 */
export class RotatorError extends Error {
  readonly code: FailureCode;
  readonly remedy: string;
  readonly scope: FailureScope;

  constructor(message: string, options: RotatorErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RotatorError';
    this.code = options.code;
    this.remedy = options.remedy;
    this.scope = options.scope ?? 'user';
  }
}

/** Narrows `unknown` from a `catch` to an `Error`, wrapping anything else. */
export const asError = (value: unknown): Error =>
  value instanceof Error ? value : new Error(String(value));

/**
 * A create that may have minted: its response never arrived, or said nothing about a refusal.
 * The engine lists again before trying once more. Adapters throw subclasses that name the call.
 */
export class CreateOutcomeUnknownError extends RotatorError {}

/** Waiting any longer would pass the run's deadline: the user is deferred, not failed. */
export class DeadlineError extends RotatorError {}
