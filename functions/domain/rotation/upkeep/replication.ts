import type { UserSettings } from '../../config/types.js';
import { asError, RotatorError } from '../../errors.js';
import { DAY_MS } from '../../renewal.js';
import {
  type ReplicaStatus,
  type ReplicaTag,
  replicaTagValue,
  versionMark,
} from '../../replicas.js';
import type { DriftFinding } from '../../report.js';
import type { SecretState } from '../../stored-value.js';
import { outOfTime } from '../deadlines.js';
import type { UserRef } from '../request.js';
import type { Run } from '../run-state.js';

/**
 * Replicas: every secret is replicated to the Regions its user's settings name, and its current
 * certificate is seen in sync there. New secrets are created with their replicas
 * (`SecretStorePort.create`); this module keeps existing ones reconciled, cheaply:
 *
 * - The replicas tag (returned by ListSecrets) lists the Regions replicated to and the version
 *   last seen in sync everywhere. A secret whose tag has every wanted Region and names its
 *   current version costs nothing.
 * - Otherwise (a Region added to the config, a new certificate since the last check, a new
 *   secret) the run reads the replication status once (DescribeSecret), replicates to wanted
 *   Regions that have no replica, and records the tag. A renewal costs that one read and one
 *   tag write on the next run, when the copy has long finished.
 * - A rolling check re-reads each verified secret once every `REPLICA_CHECK_DAYS` days, in turn
 *   by name: a run checks n/100 of n replicated secrets (rounded down or up, so never more than
 *   ⌈n/100⌉), the cost of a ListSecrets page. It finds a replica removed or broken behind the
 *   rotator's back; the check after each renewal is what catches a copy that failed.
 *
 * A replica Secrets Manager reports `Failed` fails the row (`REPLICA_FAILED`): the certificate
 * does not reach a Region that needs it. One still in progress is reported and checked again, as
 * is one a transient error kept from being checked or replicated (a warning, `TRANSIENT_CODES`).
 * Replicas of Regions no longer configured are left in place: removing one would cut off its
 * readers; the log says so.
 */

type ReplicaUser = UserRef & Pick<UserSettings, 'replicaRegions'>;

export const REPLICAS = 'replicas';

/** Each replicated secret is checked again once in this many days: 0.01 requests a user a day. */
export const REPLICA_CHECK_DAYS = 100;

/**
 * The secrets whose replicas the run of `day` (days since the epoch) checks again. In name
 * order, day d takes positions ⌊d·n/100⌋ to ⌊(d+1)·n/100⌋ − 1 (mod n): consecutive days tile
 * the list, so each name comes up exactly once in any 100 consecutive days, whatever n.
 */
export const replicaChecksOn = (secretNames: readonly string[], day: number): Set<string> => {
  const names = [...new Set(secretNames)].sort();
  const n = names.length;
  // Integers throughout: day · n stays far below 2^53.
  const upTo = (d: number) => Math.floor((d * n) / REPLICA_CHECK_DAYS);
  const picked = new Set<string>();
  for (let i = upTo(day); i < upTo(day + 1); i++) picked.add(names[i % n] as string);
  return picked;
};

const checks = new WeakMap<Run, ReadonlySet<string>>();

/** Picks the run's rolling checks from its users (those with replica Regions). */
export const planReplicaChecks = (
  run: Run,
  users: readonly (ReplicaUser & { secretName: string })[],
): void => {
  const replicated = users.filter((u) => (u.replicaRegions ?? []).length > 0);
  const day = Math.floor(run.ctx.clock.now().getTime() / DAY_MS);
  checks.set(
    run,
    replicaChecksOn(
      replicated.map((u) => u.secretName),
      day,
    ),
  );
};

export interface ReplicaStep {
  findings: DriftFinding[];
  /** The replicas tag to record, when it changed (written with the run's other tags). */
  tag?: ReplicaTag;
  /** Regions the secret is known to have a usable replica in, for the row's replica ARNs. */
  regions: readonly string[];
}

const listed = (regions: readonly string[]): string => [...regions].sort().join(', ');

/**
 * Store errors that say nothing about the replicas: throttling, a 5xx, a dropped connection
 * (`SECRET_STORE_FAILED`, after the SDK's own retries). The replica is then not known to be
 * broken, only not checked: a warning on the row, checked again on the next run, never a failed
 * row (and no FailedUsers page) for a secret the run did not otherwise touch. Every other code
 * (denied, KMS, Region refused, a secret in a bad state) is a confirmed problem and fails it.
 */
const TRANSIENT_CODES: readonly string[] = ['SECRET_STORE_FAILED'];

const storeFinding = (found: string, err: unknown): DriftFinding => {
  if (err instanceof RotatorError && TRANSIENT_CODES.includes(err.code)) {
    return {
      what: REPLICAS,
      found,
      repaired: false,
      error: `${err.message} [${err.code}]; a warning: checked again on the next run`,
    };
  }
  if (err instanceof RotatorError) {
    return {
      what: REPLICAS,
      found,
      repaired: false,
      error: err.message,
      errorCode: err.code,
      remedy: err.remedy,
    };
  }
  return {
    what: REPLICAS,
    found,
    repaired: false,
    error: `unexpected error (${asError(err).name})`,
  };
};

/** A user whose Regions the tag does not cover yet, when the run has no time to replicate. */
export const replicasOutOfTime = (user: ReplicaUser, state: SecretState): DriftFinding[] => {
  const taggedRegions = state.replicaTag?.regions ?? [];
  const missing = (user.replicaRegions ?? [])
    .map((r) => r.region)
    .filter((r) => !taggedRegions.includes(r));
  if (missing.length === 0) return [];
  return [
    {
      what: REPLICAS,
      found: `not yet replicated to ${listed(missing)}`,
      repaired: false,
      error: 'out of time for this run',
    },
  ];
};

/**
 * Reconciles a healthy secret's replicas with the user's settings (see the module comment).
 * Never throws: what went wrong is in the findings.
 */
export const settleReplicas = async (
  run: Run,
  user: ReplicaUser,
  state: SecretState,
): Promise<ReplicaStep> => {
  const wanted = user.replicaRegions ?? [];
  const tag = state.replicaTag;
  const taggedRegions = tag?.regions ?? [];
  if (wanted.length === 0 || !state.currentVersionId)
    return { findings: [], regions: taggedRegions };
  if (outOfTime(run)) return { findings: replicasOutOfTime(user, state), regions: taggedRegions };
  const missing = wanted.filter((w) => !taggedRegions.includes(w.region));
  const current = versionMark(state.currentVersionId);
  const settled = missing.length === 0 && tag?.verified === current;
  if (settled && !checks.get(run)?.has(state.name)) return { findings: [], regions: taggedRegions };

  let statuses: readonly ReplicaStatus[];
  try {
    statuses = state.replication ?? (await run.ctx.store.replicationStatus(state));
  } catch (err) {
    const finding = storeFinding('could not be checked', err);
    // A rolling check of a verified secret: drop the mark so that the next run checks it again,
    // not the one in REPLICA_CHECK_DAYS days. A confirmed failure keeps it (the row fails).
    const recheck = settled && !finding.errorCode && tag;
    return {
      findings: [finding],
      ...(recheck ? { tag: { regions: tag.regions, verified: undefined } } : {}),
      regions: taggedRegions,
    };
  }
  const byRegion = new Map(statuses.map((s) => [s.region, s]));
  const findings: DriftFinding[] = [];

  const absent = wanted.filter((w) => !byRegion.has(w.region));
  if (absent.length > 0) {
    const regions = absent.map((w) => w.region);
    const lost = regions.filter((r) => taggedRegions.includes(r));
    const found =
      lost.length > 0
        ? `replica in ${listed(lost)} missing`
        : `not yet replicated to ${listed(regions)}`;
    try {
      for (const s of await run.ctx.store.replicate(state, absent)) byRegion.set(s.region, s);
      findings.push({ what: REPLICAS, found, repaired: true });
    } catch (err) {
      findings.push(storeFinding(found, err));
    }
  }

  const ofWanted = wanted.flatMap((w) => byRegion.get(w.region) ?? []);
  for (const failed of ofWanted.filter((s) => s.status === 'Failed')) {
    findings.push({
      what: REPLICAS,
      found: `replica in ${failed.region} failed: ${failed.message ?? 'no reason given'}`,
      repaired: false,
      error: 'Secrets Manager reports the replica Failed',
      errorCode: 'REPLICA_FAILED',
      remedy: `Fix the cause Secrets Manager names (the replica's KMS key in ${failed.region}, or a secret of the same name already there), then remove the Region from replication (aws secretsmanager remove-regions-from-replication --secret-id ${state.arn} --remove-replica-regions ${failed.region}); the next run replicates it again.`,
    });
  }
  const copying = ofWanted.filter((s) => s.status !== 'Failed' && s.status !== 'InSync');
  if (copying.length > 0) {
    findings.push({
      what: REPLICAS,
      found: `replication to ${listed(copying.map((s) => s.region))} not in sync yet (${listed([...new Set(copying.map((s) => s.status))])})`,
      repaired: false,
      error: 'checked again on the next run',
    });
  }
  const extra = [...byRegion.keys()].filter((r) => !wanted.some((w) => w.region === r));
  if (extra.length > 0) {
    run.ctx.log.info('replicas in Regions no longer configured are left in place', {
      projectId: user.projectId,
      username: user.username,
      regions: extra,
    });
  }

  const inSync = ofWanted.length === wanted.length && ofWanted.every((s) => s.status === 'InSync');
  const next: ReplicaTag = {
    regions: [...byRegion.keys()],
    verified: inSync ? current : undefined,
  };
  // A stale mark is as good as none: no write just to drop it.
  const changed =
    !tag ||
    replicaTagValue({ regions: tag.regions, verified: undefined }) !==
      replicaTagValue({ regions: next.regions, verified: undefined }) ||
    (tag.verified === current) !== inSync;
  const usable = [...byRegion.values()].filter((s) => s.status !== 'Failed').map((s) => s.region);
  return { findings, ...(changed ? { tag: next } : {}), regions: usable };
};
