import { ATLAS_BACKDATE_MS, DAY_MS, type ListedCertificate } from '../../renewal.js';
import { type SecretState, versionIdFor } from '../../stored-value.js';
import type { Run } from '../run-state.js';

/**
 * Applications that have not reloaded: no driver picks up a new client certificate by itself,
 * so a secret nobody read since its promotion means its readers still present the previous
 * certificate, and lose their connections when it expires. Told from what every run already
 * has, with no read of a value (a read would itself count as an access):
 *
 * - the previous certificate is the AWSPREVIOUS version, whose id names its serial; Atlas's
 *   list (read for every user anyway) dates it;
 * - Secrets Manager's `LastAccessedDate` (ListSecrets) is a day, midnight UTC: a read on the
 *   day of the promotion cannot be told from the rotator's own reads around it, so only an
 *   access on a later day proves a consumer fetched the new version. The day is the own-access
 *   tag's, written at promotion; without it (promoted by an older version), the day Atlas
 *   created the current certificate, which a promotion never precedes.
 */

const PREVIOUS = 'AWSPREVIOUS';

export interface StaleReaders {
  previousSerial: string;
  previousNotAfter: Date;
  /** The day (midnight UTC) from which an access counts as a consumer's. */
  promotedDay: Date;
  lastAccessedDate: Date | undefined;
}

const utcDay = (at: Date): number => Math.floor(at.getTime() / DAY_MS);

export const staleReaders = (input: {
  state: SecretState | undefined;
  listed: readonly ListedCertificate[];
  now: Date;
  warningDays: number;
}): StaleReaders | undefined => {
  const { state, listed, now } = input;
  if (!state || state.deletedDate || !state.currentVersionId) return undefined;
  const previousId = [...state.versions].find(([, stages]) => stages.includes(PREVIOUS))?.[0];
  if (!previousId || previousId === state.currentVersionId) return undefined;
  const previous = listed.find((c) => versionIdFor(c.serialNumber) === previousId);
  // Unlisted: Atlas no longer has it (expired or revoked), nothing left to warn about.
  if (!previous || previous.notAfter <= now) return undefined;
  if (previous.notAfter.getTime() - now.getTime() > input.warningDays * DAY_MS) return undefined;
  const current = listed.find((c) => versionIdFor(c.serialNumber) === state.currentVersionId);
  const promotedAt =
    state.ownAccess ??
    (current ? new Date(current.createdAt.getTime() + ATLAS_BACKDATE_MS) : undefined);
  if (!promotedAt) return undefined;
  const accessed = state.lastAccessedDate;
  if (accessed && utcDay(accessed) > utcDay(promotedAt)) return undefined;
  return {
    previousSerial: previous.serialNumber,
    previousNotAfter: previous.notAfter,
    promotedDay: new Date(utcDay(promotedAt) * DAY_MS),
    lastAccessedDate: accessed,
  };
};

/** The row's words for it: what was not read since when, and when the old certificate ends. */
export const staleReason = (stale: StaleReaders, now: Date): string => {
  const days = Math.floor(((stale.previousNotAfter.getTime() - now.getTime()) / DAY_MS) * 10) / 10;
  const read = stale.lastAccessedDate
    ? `last read ${stale.lastAccessedDate.toISOString().slice(0, 10)}`
    : 'never read';
  return `; consumers stale: the secret was not read after ${stale.promotedDay.toISOString().slice(0, 10)}, the day its current version was promoted (${read}), and the previous certificate ${stale.previousSerial} expires ${stale.previousNotAfter.toISOString()}, in ${days} days: applications still using it must reload`;
};

/**
 * A value this run read on a day other than the promotion's (something unusual made the index
 * insufficient) is an access of the rotator's own: while no consumer has read the secret since
 * its promotion, the own-access tag moves to today so that later runs discount it too. Only
 * then, so a secret a consumer already re-read keeps its day; best effort, like every tag.
 */
export const noteOwnRead = async (
  run: Run,
  read: SecretState | undefined,
  indexed: SecretState | undefined,
  listed: readonly ListedCertificate[],
): Promise<void> => {
  if (run.request.dryRun || !read?.current) return;
  const now = run.ctx.clock.now();
  // Without the index, the read's own metadata: DescribeSecret comes before its GetSecretValue.
  const before = indexed ?? read;
  const unconfirmed = staleReaders({ state: before, listed, now, warningDays: Infinity });
  if (!unconfirmed || utcDay(unconfirmed.promotedDay) >= utcDay(now)) return;
  await run.ctx.store.tag(read, { ownAccess: now }).catch(() => undefined);
};

/**
 * Whether reading the secret's value now could hide nothing (`doctor` picks such a secret):
 * it has no previous version, or a consumer already read it after the promotion day.
 */
export const readHidesNothing = (state: SecretState): boolean => {
  const previous = [...state.versions.values()].some((stages) => stages.includes(PREVIOUS));
  if (!previous) return true;
  const { lastAccessedDate: accessed, ownAccess } = state;
  return !!accessed && !!ownAccess && utcDay(accessed) > utcDay(ownAccess);
};
