import { asError, type ErrorCode, type FailureScope, RotatorError } from '../errors.js';
import type { CertificateDates, ListedCertificate } from '../renewal.js';
import type { UserReport } from '../report.js';
import type { SecretState } from '../stored-value.js';
import type { Refusal } from './policies/chain.js';

/**
 * Outcomes: what one user's row says, and the small builders every phase makes its row with.
 * The ledger (`ledger.ts`) keeps the rows.
 */

export type Outcome = Omit<UserReport, 'projectId' | 'username' | 'secretName'>;

/** What a failed row knows of the user's secret: its certificate and the orphans found. */
export interface FailureBasis {
  state?: SecretState | undefined;
  held?: CertificateDates | undefined;
  orphans?: string[];
}

/**
 * A failed row, before the ledger routes it: the error's scope decides whether it fails the
 * user, its project or the run (`Ledger.record`). Every phase fails a user this one way.
 */
export interface Failure extends FailureBasis {
  readonly failed: unknown;
}

/** What a phase ends a user's renewal with: its row, or its failure. */
export type Result = Outcome | Failure;

export const failure = (error: unknown, basis: FailureBasis = {}): Failure => ({
  failed: error,
  ...basis,
});

/** The failure of a user a check refused: the engine's decision, no Atlas or AWS error behind it. */
export const refused = (refusal: Refusal, basis: FailureBasis = {}): Failure =>
  failure(new UserFailure(refusal.message, refusal.code, refusal.remedy), basis);

export const isFailure = <T extends object>(result: T | Failure): result is Failure =>
  'failed' in result;

/**
 * A user failure the engine decides on (no Atlas or AWS error behind it). It carries the secret
 * state read so far, so the report still shows which certificate the secret holds.
 */
export class UserFailure extends RotatorError {
  constructor(
    message: string,
    code: ErrorCode,
    remedy: string,
    readonly state?: SecretState,
  ) {
    super(message, { code, remedy, scope: 'user' });
    this.name = 'UserFailure';
  }
}

export const toDates = (state: SecretState | undefined): CertificateDates | undefined =>
  state?.current?.kind === 'ours' ? state.current.value : undefined;

export const heldFields = (state: SecretState | undefined, held: CertificateDates | undefined) => ({
  secretArn: state?.arn,
  serialNumber: held?.serialNumber,
  notAfter: held?.notAfter.toISOString(),
});

export const serialsOf = (certs: readonly ListedCertificate[]): string[] =>
  certs.map((c) => c.serialNumber);

/** What an outcome keeps of an assessment: the held certificate and the orphans. */
export interface Basis {
  state: SecretState | undefined;
  held: CertificateDates | undefined;
  orphans: readonly ListedCertificate[];
}

/** A report outcome that keeps what the assessment knew. */
export const outcome = (
  basis: Basis | undefined,
  action: Outcome['action'],
  reason: string,
): Outcome => ({
  ...heldFields(basis?.state, basis?.held),
  action,
  reason,
  orphans: basis ? serialsOf(basis.orphans) : [],
});

export const unexpected = (err: unknown, scope: FailureScope): RotatorError => {
  const e = asError(err);
  return new RotatorError(`unexpected error: ${e.name}: ${e.message}`, {
    code: 'INTERNAL_ERROR',
    remedy: 'Retry the run; if it repeats, open an issue with this report.',
    scope,
  });
};
