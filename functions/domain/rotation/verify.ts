import type { ValidatedCertificate } from '../certificate.js';
import type { UserSettings } from '../config/types.js';
import { asError, RotatorError } from '../errors.js';
import { type CertificateDates, DAY_MS, isCritical } from '../renewal.js';
import type { VerifyReport } from '../report.js';
import type { SecretState } from '../stored-value.js';
import { VERIFY_MIN_MS } from '../timing.js';
import { timeLeft } from './deadlines.js';
import { heldFields, type Outcome } from './outcomes.js';
import type { LoginCheckResult } from './ports.js';
import type { Run } from './run-state.js';

/**
 * Verify: with the project's `verify.uri`, a new certificate proves it can log in (MONGODB-X509,
 * then `ping`) before it becomes AWSCURRENT, as AWS's rotation templates test a new secret
 * before finishing. A failure leaves it AWSPENDING, and the next run checks it again without
 * minting (`resume.ts`). The check must never cause the outage it guards against: once the
 * certificate it replaces is within `criticalDays` of expiry (or there is none), a failing
 * check no longer holds it back; the row says `bypassed` and the run alarms.
 */

export type Proof =
  /** The project has no `verify.uri`. */
  | { kind: 'unchecked' }
  | { kind: 'passed'; verify: VerifyReport }
  /** Failed, but what it replaces is about to expire: made current anyway. */
  | { kind: 'bypassed'; verify: VerifyReport; note: string }
  /** Failed: it stays pending. */
  | { kind: 'failed'; verify: VerifyReport; error: VerifyFailedError }
  /** Too little of the run left to check: it stays pending for the next run. */
  | { kind: 'no-time'; note: string };

/** A new certificate that could not log in: left AWSPENDING, not made current. */
export class VerifyFailedError extends RotatorError {
  constructor(serialNumber: string, reason: string) {
    super(
      `certificate ${serialNumber} stored as AWSPENDING, not made current: its login check failed: ${reason}`,
      {
        code: 'VERIFY_FAILED',
        remedy:
          "Check that the rotator reaches the cluster of verify.uri (its VPC, peering or private endpoint, the cluster's IP access list: docs/deploy.md) and that the user exists there. The next run checks it again without minting; within rotation.criticalDays of the current certificate's expiry it is made current anyway.",
        scope: 'user',
      },
    );
    this.name = 'VerifyFailedError';
  }
}

const checkOnce = async (
  run: Run,
  uri: string,
  cert: ValidatedCertificate,
  timeoutMs: number,
): Promise<LoginCheckResult> => {
  const port = run.ctx.loginCheck;
  if (!port) return { ok: false, reason: 'no login check is wired into this run' };
  try {
    return await port.check({
      uri,
      certificate: cert.certificate,
      privateKey: cert.privateKey,
      timeoutMs,
    });
  } catch (err) {
    // The port never throws by contract; a bug behind it is a failed check, never a promotion.
    const e = asError(err);
    return { ok: false, reason: `${e.name}: the login check itself failed` };
  }
};

const daysText = (replaced: CertificateDates | undefined, now: Date): string => {
  if (!replaced) return 'the secret held no certificate';
  const days = Math.max(0, (replaced.notAfter.getTime() - now.getTime()) / DAY_MS);
  return `the certificate it replaces expires in ${days.toFixed(1)} days`;
};

/** Runs the project's login check on a certificate about to be made current. */
export const verify = async (
  run: Run,
  user: UserSettings,
  cert: ValidatedCertificate,
  /** The certificate it replaces (undefined: none, or one not ours). */
  replaced: CertificateDates | undefined,
): Promise<Proof> => {
  const { ctx } = run;
  const uri = ctx.config.projects.find((p) => p.projectId === user.projectId)?.verify?.uri;
  if (uri === undefined) return { kind: 'unchecked' };
  // What is left after the check is the promotion's (a label move and a tag).
  const wanted = run.tuning.verifyTimeoutMs;
  const timeoutMs = Math.min(wanted, timeLeft(run) - VERIFY_MIN_MS);
  if (timeoutMs < Math.min(wanted, VERIFY_MIN_MS)) {
    return { kind: 'no-time', note: 'no time left in this run for its login check' };
  }
  const result = await checkOnce(run, uri, cert, timeoutMs);
  if (result.ok) return { kind: 'passed', verify: { outcome: 'passed' } };
  const now = ctx.clock.now();
  const where = {
    projectId: user.projectId,
    username: user.username,
    serialNumber: cert.serialNumber,
    error: result.reason,
  };
  if (isCritical(replaced, now, ctx.config.rotation.criticalDays)) {
    ctx.log.warn('making a certificate current although its login check failed', where);
    return {
      kind: 'bypassed',
      verify: { outcome: 'bypassed', error: result.reason },
      note: `made current although its login check failed (${daysText(replaced, now)}, within criticalDays ${ctx.config.rotation.criticalDays}): ${result.reason}`,
    };
  }
  return {
    kind: 'failed',
    verify: { outcome: 'failed', error: result.reason },
    error: new VerifyFailedError(cert.serialNumber, result.reason),
  };
};

/** A proof that keeps the certificate pending. */
export type HoldingProof = Extract<Proof, { kind: 'failed' | 'no-time' }>;

export const holdsBack = (proof: Proof): proof is HoldingProof =>
  proof.kind === 'failed' || proof.kind === 'no-time';

/** The row of a certificate the check kept pending: the secret still holds `held`. */
export const heldBack = (
  proof: HoldingProof,
  cert: ValidatedCertificate,
  basis: { state: SecretState | undefined; held: CertificateDates | undefined; orphans: string[] },
): Outcome => {
  const base = { ...heldFields(basis.state, basis.held), orphans: basis.orphans };
  if (proof.kind === 'no-time') {
    return {
      ...base,
      action: 'deferred',
      reason: `certificate ${cert.serialNumber} stored as AWSPENDING; ${proof.note}: the next run checks it and makes it current`,
    };
  }
  const { message, code, remedy } = proof.error;
  return {
    ...base,
    action: 'failed',
    reason: message,
    errorCode: code,
    remedy,
    verify: proof.verify,
  };
};

/** What a made-current row carries of its check: the report field, and a bypass in its reason. */
export const withProof = (row: Outcome, proof: Exclude<Proof, HoldingProof>): Outcome => {
  if (proof.kind === 'unchecked') return row;
  if (proof.kind === 'passed') return { ...row, verify: proof.verify };
  return { ...row, reason: `${row.reason}; ${proof.note}`, verify: proof.verify };
};

/**
 * A certificate current already (a secret's first version always is): the check can only
 * report. With nothing held, a failure is a bypass.
 */
export const reportOnly = (row: Outcome, proof: Proof): Outcome => {
  if (proof.kind === 'no-time') return { ...row, reason: `${row.reason}; ${proof.note}` };
  if (proof.kind === 'failed') {
    const error = proof.verify.error ?? proof.error.message;
    return withProof(row, {
      kind: 'bypassed',
      verify: { outcome: 'bypassed', error },
      note: `made current although its login check failed: ${error}`,
    });
  }
  return withProof(row, proof);
};
