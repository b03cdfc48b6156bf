import type { ValidatedCertificate } from '../certificate.js';
import type { UserSettings } from '../config/types.js';
import type { CertificateDates } from '../renewal.js';
import type { SecretState } from '../stored-value.js';
import { acquire } from './acquire.js';
import { type Assessment, assess } from './assess.js';
import { issue } from './issue.js';
import { failure, isFailure, type Outcome, outcome, type Result, serialsOf } from './outcomes.js';
import { decide, renewalKey } from './policies/renewal.js';
import { listedYet, notListedYet, promote } from './promote.js';
import { resume } from './resume.js';
import type { Run } from './run-state.js';
import { recordServed } from './served.js';
import { triage } from './triage.js';
import { reconcileUntouched, settleStored, withDrift } from './upkeep/drift.js';
import { tidyPendingLabel } from './upkeep/pending-label.js';
import { noteOwnRead, staleReaders, staleReason } from './upkeep/stale-readers.js';
import { heldBack, holdsBack, reportOnly, verify, withProof } from './verify.js';

/**
 * One user's renewal, in the order it runs: triage (rows that need no read), assess (read and
 * decide), acquire (the lease), then inside it assess again, resume an interrupted rotation or
 * issue a new certificate, and promote it once Atlas lists it and it passes its login check
 * (verify). Each phase returns to this file; none calls another. Its result is the user's row.
 */
export const renew = async (
  run: Run,
  user: UserSettings,
  sharesSecretWith: string | undefined,
  indexed: SecretState | null | undefined,
): Promise<Result> => {
  const { ledger, request } = run;
  if (indexed !== undefined) ledger.noteSecret(user, indexed);
  const triaged = triage(run, user, sharesSecretWith, indexed);
  if (triaged) return triaged;

  let first: Assessment;
  try {
    const assessed = await assess(run, user, indexed);
    if (isFailure(assessed)) return assessed;
    first = assessed;
    ledger.noteSecret(user, first.state ?? null);
  } catch (err) {
    return failure(err);
  }
  if (!first.decision.due) {
    // Upkeep of a user nothing else is done to: a leftover pending label, drift.
    const tidied = request.dryRun ? '' : await tidyPendingLabel(run, user, first.state);
    const drift = request.dryRun
      ? []
      : await reconcileUntouched(run, user, first.state, first.held);
    // From the index read before this run read any value: its own reads cannot hide it.
    const now = run.ctx.clock.now();
    const stale = staleReaders({
      state: indexed ?? first.state,
      listed: first.listed,
      now,
      warningDays: run.ctx.config.rotation.staleConsumerDays,
    });
    await noteOwnRead(run, first.state, indexed ?? undefined, first.listed);
    const reason = `${first.decision.reason}${tidied}${stale ? staleReason(stale, now) : ''}`;
    const row = outcome(first, 'skipped', reason);
    return withDrift(stale ? { ...row, consumers: 'stale' } : row, drift);
  }
  if (request.dryRun) {
    const verb = first.state?.pendingVersionId ? 'finish' : 'mint';
    return outcome(first, 'planned', `would ${verb}: ${first.decision.reason}`);
  }

  // The due user's work, under its lease. A failure keeps what the run knew of the secret and
  // every serial whose key is lost.
  let current = first;
  let lost: string[] = [];
  try {
    const lease = await acquire(run, user, first);
    if (!lease.held) return lease.outcome;
    try {
      // Inside the lease, read the secret again: another run may have finished this user
      // meanwhile. Atlas's list from a moment ago stands (a certificate minted since then by
      // a crashed run shows up as an orphan next time). A user without a secret needs no
      // second read: creating the secret tells whether another run made it meanwhile.
      const again = first.state ? await assess(run, user, undefined, first.listed) : first;
      if (isFailure(again)) return failure(again.failed, basisOf(first, lost));
      current = again;
      if (!current.decision.due) {
        const reason = `${current.decision.reason} (rotated by another run meanwhile)`;
        return outcome(current, 'skipped', reason);
      }
      const a = current;
      lost = serialsOf(a.orphans);

      if (a.state?.pendingVersionId) {
        const resumed = await resume(run, user, a);
        if (resumed.kind === 'failed') return resumed.failure;
        if (resumed.kind === 'promote') {
          const { cert } = resumed;
          const said = `finished the interrupted rotation: certificate ${cert.serialNumber} is now current`;
          const row = outcome({ ...a, held: cert }, 'resumed', said);
          const basis = { state: a.state, held: a.held, orphans: lost };
          return await makeCurrent(run, user, { ...basis, ...resumed }, row);
        }
        const now = run.ctx.clock.now();
        const key = renewalKey(user);
        const decision = decide({ held: a.held, policy: user, key, now, force: a.forced });
        if (!decision.due) {
          const said = `dropped an unusable pending version; ${decision.reason}`;
          return { ...outcome(a, 'skipped', said), orphans: lost };
        }
      }

      const issued = await issue(run, user, a, { leaseUntil: lease.until });
      lost = issued.lost;
      if (issued.kind === 'failed') return failure(issued.error, basisOf(a, lost));
      if (issued.kind === 'settled') return issued.outcome;
      const { state, cert } = issued;
      // Before anything else can fail: a retried forced request finds it served (`served.ts`).
      await recordServed(run, user, state, issued.versionId);
      const stored = {
        secretArn: state.arn,
        serialNumber: cert.serialNumber,
        notAfter: cert.notAfter.toISOString(),
        orphans: lost,
      };
      if (!state.currentVersionId) {
        // The first certificate of an empty secret is current once stored: its check only reports.
        const drift = await settleStored(run, user, state, cert.notAfter, true);
        const said = `stored the first certificate (${a.decision.reason})`;
        const row = withDrift({ ...stored, action: 'rotated', reason: said }, drift);
        return reportOnly(row, await verify(run, user, cert, undefined));
      }
      if (!(await listedYet(run, user, cert))) {
        return notListedYet(cert, { state, held: a.held, orphans: lost });
      }
      const row: Outcome = {
        ...stored,
        action: 'rotated',
        reason: `rotated (${a.decision.reason})`,
      };
      return await makeCurrent(run, user, { ...issued, held: a.held, orphans: lost }, row);
    } finally {
      await lease.release();
    }
  } catch (err) {
    return failure(err, basisOf(current, lost));
  }
};

/** What a failed row keeps: the secret as assessed, and every serial whose key is lost. */
const basisOf = (a: Assessment, lost: readonly string[]) => ({
  state: a.state,
  held: a.held,
  orphans: [...new Set([...serialsOf(a.orphans), ...lost])],
});

/**
 * Makes a stored certificate current once its login check passes (or may be bypassed), then
 * settles the secret's policy and tags; a check that fails keeps it pending.
 */
const makeCurrent = async (
  run: Run,
  user: UserSettings,
  c: {
    state: SecretState;
    held: CertificateDates | undefined;
    cert: ValidatedCertificate;
    versionId: string;
    orphans: string[];
  },
  row: Outcome,
): Promise<Outcome> => {
  const proof = await verify(run, user, c.cert, c.held);
  if (holdsBack(proof)) return heldBack(proof, c.cert, c);
  await promote(run, c.state, c.versionId);
  const drift = await settleStored(run, user, c.state, c.cert.notAfter, false);
  return withProof(withDrift(row, drift), proof);
};
