import { type ValidatedCertificate, validateBundle } from '../certificate.js';
import type { UserSettings } from '../config/types.js';
import { asError, CreateOutcomeUnknownError, DeadlineError, RotatorError } from '../errors.js';
import { recentOrphans } from '../renewal.js';
import { type SecretState, serializeStored } from '../stored-value.js';
import type { Assessment } from './assess.js';
import { createStartBy } from './deadlines.js';
import { notIn, pollList } from './listing.js';
import { heldFields, type Outcome, serialsOf, toDates, UserFailure } from './outcomes.js';
import { mintGate } from './policies/mint-gate.js';
import type { Run } from './run-state.js';

/**
 * Issue: mint a certificate, validate it in memory and store it before any other call (the key
 * exists nowhere else). Whatever happens, the result names the serials whose keys are lost (the
 * assessment's orphans, and any this issue minted and could not keep), so the row reports them.
 */

export type Issued = {
  lost: string[];
} /** Stored as a new version of `state`: the renewal promotes it. */ & (
  | { kind: 'stored'; state: SecretState; cert: ValidatedCertificate; versionId: string }
  /** Nothing to mint after all: the row says why. */
  | { kind: 'settled'; outcome: Outcome }
  | { kind: 'failed'; error: unknown }
);

export interface IssueOptions {
  /** Epoch ms at which this run's lease on the user lapses. */
  leaseUntil: number;
}

export const issue = async (
  run: Run,
  user: UserSettings,
  a: Assessment,
  { leaseUntil }: IssueOptions,
): Promise<Issued> => {
  const { ctx } = run;
  const lost = serialsOf(a.orphans);
  try {
    const state = a.state ?? (await ctx.store.create(user.secretName, user));
    if (!a.state && (state.currentVersionId || state.pendingVersionId)) {
      const outcome: Outcome = {
        ...heldFields(state, toDates(state)),
        action: 'skipped',
        reason:
          'the secret turned out to hold a certificate (another run stored one meanwhile, or the listing lagged); the next run decides from it',
        orphans: lost,
      };
      return { kind: 'settled', outcome, lost };
    }
    const minted = await mint(run, user, a, leaseUntil);
    lost.push(...minted.lost);
    if (minted.kind === 'failed') {
      if (!a.state && minted.refused) await discardEmptySecret(run, user, state);
      return { kind: 'failed', error: minted.error, lost };
    }

    let cert: ValidatedCertificate;
    try {
      cert = validateBundle(minted.body, {
        username: user.username,
        policy: user,
        now: ctx.clock.now(),
        requestedMonths: user.monthsUntilExpiration,
      });
    } catch (err) {
      // Atlas minted something we will not use: it stays valid until it expires.
      const before = new Set(serialsOf(a.listed));
      const unusable = await pollList(run, user, (listed) => notIn(listed, before).length > 0)
        .then(({ listed }) => notIn(listed, before))
        .catch(() => []);
      lost.push(...serialsOf(unusable).filter((s) => !lost.includes(s)));
      return { kind: 'failed', error: err, lost };
    }

    // Store before any other call: the key exists nowhere else.
    try {
      const versionId = await ctx.store.put(state, serializeStored(user, cert), cert.serialNumber);
      return { kind: 'stored', state, cert, versionId, lost };
    } catch (err) {
      lost.push(cert.serialNumber);
      ctx.log.error('a minted certificate could not be stored; its key is lost', {
        projectId: user.projectId,
        username: user.username,
        serialNumber: cert.serialNumber,
      });
      return { kind: 'failed', error: err, lost };
    }
  } catch (err) {
    return { kind: 'failed', error: err, lost };
  }
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

type Minted = { lost: string[] } & (
  | { kind: 'minted'; body: string }
  /** `refused`: Atlas refused the first create outright, so nothing was minted this run. */
  | { kind: 'failed'; error: unknown; refused: boolean }
);

/**
 * Mints through Atlas. The create is not idempotent: after a failure that may have minted,
 * list again, count what appeared as orphans, and try again only as the mint gate allows.
 */
const mint = async (
  run: Run,
  user: UserSettings,
  a: Assessment,
  leaseUntil: number,
): Promise<Minted> => {
  const { ctx } = run;
  const { orphanLimit, orphanWindowDays, criticalDays, maxMintsPerWindow } = ctx.config.rotation;
  const seenSerials = new Set(serialsOf(a.listed));
  const now = ctx.clock.now();
  const recent = recentOrphans(a.orphans, now, orphanWindowDays);
  // Every certificate created in the window counts against the cap, held or lost.
  const minted = recentOrphans(a.listed, now, orphanWindowDays);
  const lost: string[] = [];
  try {
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
      if (gate.kind === 'refuse') {
        const { message, code, remedy } = gate;
        return {
          kind: 'failed',
          error: new UserFailure(message, code, remedy),
          refused: false,
          lost,
        };
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
        const body = await ctx.atlas.createCertificate(
          user.projectId,
          user.username,
          user.monthsUntilExpiration,
          { startBy },
        );
        return { kind: 'minted', body, lost };
      } catch (err) {
        if (!(err instanceof CreateOutcomeUnknownError)) {
          // By the port's contract this create minted nothing; on a first attempt, nor did the run.
          const refused = attempt === 1 && !(err instanceof DeadlineError);
          return { kind: 'failed', error: err, refused, lost };
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
        if (attempt >= 2) return { kind: 'failed', error: err, refused: false, lost };
      }
    }
  } catch (err) {
    // A deadline before a create, or a list after an unknown outcome that failed.
    return { kind: 'failed', error: err, refused: false, lost };
  }
};
