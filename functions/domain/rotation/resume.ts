import { type ValidatedCertificate, validateBundle } from '../certificate.js';
import type { UserSettings } from '../config/types.js';
import { asError } from '../errors.js';
import { ATLAS_BACKDATE_MS } from '../renewal.js';
import { parseCurrentValue, type SecretState, versionIdFor } from '../stored-value.js';
import type { Assessment } from './assess.js';
import { type Failure, refused, serialsOf } from './outcomes.js';
import type { Refusal } from './policies/chain.js';
import type { Run } from './run-state.js';

/**
 * Resume: finish a rotation a previous run stored as AWSPENDING but did not promote. The pending
 * value is judged first (pure); an unusable one has its label dropped and the renewal decides
 * afresh from the current certificate; a usable one goes on to be promoted.
 */

export type PendingJudgement =
  | { kind: 'promote'; cert: ValidatedCertificate }
  | { kind: 'wait'; cert: ValidatedCertificate }
  | { kind: 'abandon'; problem: string }
  /** Not a value this rotator wrote: another tool's version, never ours to drop. */
  | { kind: 'foreign'; problem: string };

/** What to do with a pending value, given Atlas's list. Pure: no calls. */
export const judgePending = (input: {
  text: string | undefined;
  user: UserSettings;
  pendingVersionId: string;
  listedSerials: readonly string[];
  now: Date;
  listLagGraceMs: number;
}): PendingJudgement => {
  const { user, now } = input;
  const pending = parseCurrentValue(input.text, user, 'pending');
  if (pending.kind === 'foreign') return { kind: 'foreign', problem: pending.problem };
  let cert: ValidatedCertificate;
  try {
    cert = validateBundle(pending.value.pem, { username: user.username, policy: user, now });
  } catch (err) {
    return { kind: 'abandon', problem: asError(err).message };
  }
  if (versionIdFor(cert.serialNumber) !== input.pendingVersionId) {
    return { kind: 'abandon', problem: 'its version id does not match its serial' };
  }
  if (input.listedSerials.includes(cert.serialNumber)) return { kind: 'promote', cert };
  const age = now.getTime() - cert.notBefore.getTime() - ATLAS_BACKDATE_MS;
  if (age > input.listLagGraceMs)
    return { kind: 'abandon', problem: 'Atlas does not list its serial' };
  return { kind: 'wait', cert };
};

/** What resuming comes to: the pending version to promote, a row, or the version dropped. */
export type Resumed =
  | { kind: 'promote'; cert: ValidatedCertificate; versionId: string }
  /** Not ours, or not listed by Atlas yet: the user fails, the version stays. */
  | { kind: 'failed'; failure: Failure }
  /** Dropped as unusable: decide afresh from the current certificate. */
  | { kind: 'dropped' };

/** Judges the pending version; waits for it, or drops it. */
export const resume = async (run: Run, user: UserSettings, a: Assessment): Promise<Resumed> => {
  const { ctx } = run;
  const state = a.state as SecretState;
  const pendingId = state.pendingVersionId as string;
  const basis = { state, held: a.held, orphans: serialsOf(a.orphans) };
  const judged = judgePending({
    text: await ctx.store.readPending(state),
    user,
    pendingVersionId: pendingId,
    listedSerials: a.listed.map((c) => c.serialNumber),
    now: ctx.clock.now(),
    listLagGraceMs: run.tuning.listLagGraceMs,
  });
  if (judged.kind === 'foreign') {
    const refusal: Refusal = {
      code: 'FOREIGN_PENDING_VERSION',
      message: `secret ${user.secretName} has a pending version this rotator did not write (${judged.problem})`,
      remedy: `Another tool may be rotating this secret: finish or remove its AWSPENDING (aws secretsmanager update-secret-version-stage --secret-id ${user.secretName} --version-stage AWSPENDING --remove-from-version-id ${pendingId}), or point the user at another secretName. Nothing was minted or dropped.`,
    };
    return { kind: 'failed', failure: refused(refusal, basis) };
  }
  if (judged.kind === 'abandon') {
    ctx.log.warn('abandoning an unusable pending version', {
      projectId: user.projectId,
      username: user.username,
      versionId: pendingId,
      problem: judged.problem,
    });
    await ctx.store.dropPending(state, pendingId);
    return { kind: 'dropped' };
  }
  const { cert } = judged;
  if (judged.kind === 'wait') {
    const refusal: Refusal = {
      code: 'PENDING_NOT_LISTED',
      message: `pending certificate ${cert.serialNumber} is not listed by Atlas yet; left pending`,
      remedy: 'The next run promotes it once Atlas lists it; nothing to do unless this repeats.',
    };
    return { kind: 'failed', failure: refused(refusal, basis) };
  }
  // A pending version its login check held back is checked again when promoted, nothing minted.
  return { kind: 'promote', cert, versionId: pendingId };
};
