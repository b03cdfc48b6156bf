import { AtlasApiError } from '../../adapters/atlas/errors.js';
import { asError, RotatorError } from '../../domain/errors.js';

/**
 * What `doctor` found: one finding a check, with a remedy when it is not ok. `warn` is what a
 * run can do without (events, reading rate limits); `fail` is what a run fails on.
 */

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  detail: string;
  remedy?: string;
  /** How far a failure reaches: a `run` one stops the checks that would only repeat it. */
  scope?: string;
  /** The error code a run would report for it (`error-codes.ts`), when it has one. */
  code?: string;
}

export const failed = (name: string, err: unknown, status: CheckStatus = 'fail'): CheckResult => {
  const e = asError(err);
  return e instanceof RotatorError
    ? { name, status, detail: e.message, remedy: e.remedy, scope: e.scope, code: e.code }
    : { name, status, detail: `${e.name}: ${e.message}` };
};

/** Runs `check`; a throw is its failure, with the error's own message and remedy. */
export const attempt = async (
  name: string,
  check: () => Promise<Omit<CheckResult, 'name'>>,
  onError: (err: unknown) => CheckResult = (err) => failed(name, err),
): Promise<CheckResult> => {
  try {
    return { name, ...(await check()) };
  } catch (err) {
    return onError(err);
  }
};

/** Atlas refused the call to this credential (not the credential itself). */
export const isDenied = (err: unknown): boolean =>
  err instanceof AtlasApiError && (err.status === 401 || err.status === 403 || err.status === 404);

/** A failure that every later call of the run would meet too. */
export const stopsRun = (r: CheckResult): boolean => r.status === 'fail' && r.scope === 'run';
