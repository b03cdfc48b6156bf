import { type ValidatedCertificate, validateBundle } from '../certificate.js';
import type { UserSettings } from '../config.js';
import { asError, CreateOutcomeUnknownError, DeadlineError, RotatorError } from '../errors.js';
import { recentOrphans } from '../renewal.js';
import { type SecretState, serializeStored } from '../stored-value.js';
import type { Assessment } from './assess.js';
import { createStartBy } from './deadlines.js';
import { notIn, pollList } from './listing.js';
import { heldFields, type Outcome, outcome, serialsOf, toDates, UserFailure } from './outcomes.js';
import { mintGate } from './policies/mint-gate.js';
import { decideFor } from './policies/renewal.js';
import { promoteNew } from './promote.js';
import { resume } from './resume.js';
import type { Run } from './run-state.js';

/**
 * Issue: resume an interrupted rotation, or mint a certificate, validate it in memory and store
 * it before any other call (the key exists nowhere else). `lost` collects the serials whose
 * keys are lost, so the caller reports them even when this throws.
 */
export const issue = async (
  run: Run,
  user: UserSettings,
  a: Assessment,
  lost: string[],
  /** Epoch ms at which this run's lease on the user lapses. */
  leaseUntil: number,
): Promise<Outcome> => {
  const { ctx } = run;
  lost.push(...serialsOf(a.orphans));
  if (a.state?.pendingVersionId) {
    const resumed = await resume(run, user, a);
    if (resumed) return resumed;
    const decision = decideFor(user, a.held, a.forced, ctx.clock.now());
    if (!decision.due) {
      return {
        ...outcome(a, 'skipped', `dropped an unusable pending version; ${decision.reason}`),
        orphans: lost,
      };
    }
  }
  const state = a.state ?? (await ctx.store.create(user.secretName, user));
  if (!a.state && (state.currentVersionId || state.pendingVersionId)) {
    return {
      ...heldFields(state, toDates(state)),
      action: 'skipped',
      reason:
        'the secret turned out to hold a certificate (another run stored one meanwhile, or the listing lagged); the next run decides from it',
      orphans: lost,
    };
  }
  const track = { refused: false };
  let body: string;
  try {
    body = await mint(run, user, a, lost, leaseUntil, track);
  } catch (err) {
    if (!a.state && track.refused) await discardEmptySecret(run, user, state);
    throw err;
  }

  let cert: ValidatedCertificate;
  try {
    cert = validateBundle(body, {
      username: user.username,
      policy: user,
      now: ctx.clock.now(),
      requestedMonths: user.monthsUntilExpiration,
    });
  } catch (err) {
    // Atlas minted something we will not use: it stays valid until it expires.
    const before = new Set(serialsOf(a.listed));
    const minted = await pollList(run, user, (listed) => notIn(listed, before).length > 0)
      .then(({ listed }) => notIn(listed, before))
      .catch(() => []);
    lost.push(...serialsOf(minted).filter((s) => !lost.includes(s)));
    throw err;
  }

  // Store before any other call: the key exists nowhere else.
  let versionId: string;
  try {
    versionId = await ctx.store.put(state, serializeStored(user, cert), cert.serialNumber);
  } catch (err) {
    lost.push(cert.serialNumber);
    ctx.log.error('a minted certificate could not be stored; its key is lost', {
      projectId: user.projectId,
      username: user.username,
      serialNumber: cert.serialNumber,
    });
    throw err;
  }
  return promoteNew(
    run,
    user,
    { state, held: a.held, reason: a.decision.reason },
    cert,
    versionId,
    lost,
  );
};

/**
 * Atlas refused the first mint for a secret this run created: left there, it would sit empty,
 * and a plain delete would hold its name for the 7-day recovery window (the next run could not
 * create it), so it goes at once. The store refuses if it holds any version. Best effort: the
 * refusal is what the row reports.
 */
const discardEmptySecret = async (run: Run, user: UserSettings, state: SecretState) => {
  const where = { projectId: user.projectId, username: user.username, secret: user.secretName };
  try {
    const removed = await run.ctx.store.removeEmpty(state);
    if (removed) run.ctx.log.info('removed the empty secret this run created', where);
    else run.ctx.log.warn('kept the secret this run created: it is not empty or not ours', where);
  } catch (err) {
    run.ctx.log.warn('could not remove the empty secret this run created', {
      ...where,
      errorCode: err instanceof RotatorError ? err.code : asError(err).name,
    });
  }
};

/**
 * Mints through Atlas. The create is not idempotent: after a failure that may have minted,
 * list again, count what appeared as orphans, and try again only as the mint gate allows.
 */
const mint = async (
  run: Run,
  user: UserSettings,
  a: Assessment,
  lost: string[],
  leaseUntil: number,
  /** Set when Atlas refused the first create outright: nothing was minted this run. */
  track: { refused: boolean },
): Promise<string> => {
  const { ctx } = run;
  const { orphanLimit, orphanWindowDays, criticalDays, maxMintsPerWindow } = ctx.config.rotation;
  const seenSerials = new Set(serialsOf(a.listed));
  const now = ctx.clock.now();
  const recent = recentOrphans(a.orphans, now, orphanWindowDays);
  // Every certificate created in the window counts against the cap, held or lost.
  const minted = recentOrphans(a.listed, now, orphanWindowDays);
  for (let attempt = 1; ; attempt++) {
    const gate = mintGate({
      recentMints: minted.length,
      maxMintsPerWindow,
      recentOrphans: recent.length,
      orphanLimit,
      orphanWindowDays,
      held: a.held,
      now,
      criticalDays,
      attempt,
    });
    if (!gate.mint) {
      const { message, code, remedy } = gate.refusal;
      throw new UserFailure(message, code, remedy);
    }
    const startBy = createStartBy(run, leaseUntil);
    if (gate.pastOrphanLimit) {
      ctx.log.warn('minting past the orphan limit: the certificate is about to expire', {
        projectId: user.projectId,
        username: user.username,
        orphans: serialsOf(recent),
      });
    }
    try {
      return await ctx.atlas.createCertificate(
        user.projectId,
        user.username,
        user.monthsUntilExpiration,
        { startBy },
      );
    } catch (err) {
      if (!(err instanceof CreateOutcomeUnknownError)) {
        // By the port's contract this create minted nothing; on a first attempt, nor did the run.
        track.refused = attempt === 1 && !(err instanceof DeadlineError);
        throw err;
      }
      // Poll, as after any create: a certificate the lagging list does not show yet would go
      // uncounted, and a second create would follow it.
      const { listed } = await pollList(run, user, (now) => notIn(now, seenSerials).length > 0);
      const appeared = notIn(listed, seenSerials);
      for (const serial of serialsOf(appeared)) seenSerials.add(serial);
      lost.push(...serialsOf(appeared));
      recent.push(...appeared);
      minted.push(...appeared);
      ctx.log.warn('create outcome unknown; listed again', {
        projectId: user.projectId,
        username: user.username,
        attempt,
        newOrphans: serialsOf(appeared),
      });
      if (attempt >= 2) throw err;
    }
  }
};
