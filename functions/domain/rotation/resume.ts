import { type ValidatedCertificate, validateBundle } from '../certificate.js';
import type { UserSettings } from '../config.js';
import { asError } from '../errors.js';
import { ATLAS_BACKDATE_MS } from '../renewal.js';
import { parseCurrentValue, type SecretState, versionIdFor } from '../stored-value.js';
import type { Assessment } from './assess.js';
import { type Outcome, outcome, serialsOf, UserFailure } from './outcomes.js';
import { makeCurrent } from './promote.js';
import type { Run } from './run-state.js';
import { withDrift } from './upkeep/drift.js';
import { heldBack, holdsBack, proveLogin, withProof } from './verify.js';

/**
 * Resume: finish a rotation a previous run stored as AWSPENDING but did not promote. The pending
 * value is judged first (pure); an unusable one has its label dropped and the caller decides
 * afresh from the current certificate.
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

/** Promotes, waits, or drops the pending version. Undefined: dropped, decide afresh. */
export const resume = async (
  run: Run,
  user: UserSettings,
  a: Assessment,
): Promise<Outcome | undefined> => {
  const { ctx } = run;
  const state = a.state as SecretState;
  const pendingId = state.pendingVersionId as string;
  const judged = judgePending({
    text: await ctx.store.readPending(state),
    user,
    pendingVersionId: pendingId,
    listedSerials: a.listed.map((c) => c.serialNumber),
    now: ctx.clock.now(),
    listLagGraceMs: run.tuning.listLagGraceMs,
  });
  if (judged.kind === 'foreign') {
    throw new UserFailure(
      `secret ${user.secretName} has a pending version this rotator did not write (${judged.problem})`,
      'FOREIGN_PENDING_VERSION',
      `Another tool may be rotating this secret: finish or remove its AWSPENDING (aws secretsmanager update-secret-version-stage --secret-id ${user.secretName} --version-stage AWSPENDING --remove-from-version-id ${pendingId}), or point the user at another secretName. Nothing was minted or dropped.`,
      state,
    );
  }
  if (judged.kind === 'abandon') {
    ctx.log.warn('abandoning an unusable pending version', {
      projectId: user.projectId,
      username: user.username,
      versionId: pendingId,
      problem: judged.problem,
    });
    await ctx.store.dropPending(state, pendingId);
    return undefined;
  }
  const { cert } = judged;
  if (judged.kind === 'wait') {
    return {
      ...outcome(
        a,
        'failed',
        `pending certificate ${cert.serialNumber} is not listed by Atlas yet; left pending`,
      ),
      errorCode: 'PENDING_NOT_LISTED',
      remedy: 'The next run promotes it once Atlas lists it; nothing to do unless this repeats.',
    };
  }
  // A pending version its login check held back is checked again here, nothing minted.
  const proof = await proveLogin(run, user, cert, a.held);
  if (holdsBack(proof)) {
    return heldBack(proof, cert, { state, held: a.held, orphans: serialsOf(a.orphans) });
  }
  const drift = await makeCurrent(run, state, pendingId, cert.notAfter, user);
  const row = withDrift(
    outcome(
      { ...a, held: cert },
      'resumed',
      `finished the interrupted rotation: certificate ${cert.serialNumber} is now current`,
    ),
    drift,
  );
  return withProof(row, proof);
};
