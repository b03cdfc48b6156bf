import { createHash } from 'node:crypto';
import { NO_POLICY, samePolicy, wantedPolicy } from '../../consumers.js';
import { asError, RotatorError } from '../../errors.js';
import { type CertificateDates, DAY_MS } from '../../renewal.js';
import type { DriftFinding } from '../../report.js';
import type { SecretState } from '../../stored-value.js';
import { outOfTime } from '../deadlines.js';
import type { Outcome } from '../outcomes.js';
import type { RotatorTags } from '../ports.js';
import type { UserRef } from '../request.js';
import type { Run } from '../run-state.js';
import { REPLICAS, replicasOutOfTime, settleReplicas } from './replication.js';

/**
 * Drift: what a secret carries besides its value, kept as the config wants it. The consumers'
 * resource policy is put after the first certificate is stored; a write that failed then, or a
 * consumer added later, would otherwise leave a consumer denied while every run is green.
 *
 * - A secret the run stores a certificate in: its policy is read and compared, and repaired.
 * - Every other healthy secret: the policy tag (a hash of the policy last put, returned by
 *   ListSecrets) against the wanted policy's hash finds a config change without a read; the run
 *   puts the policy and records the new hash. A hash cannot see a policy changed by hand, so
 *   each secret's policy is also read on one day in `policyAuditDays` (its name's hash picks the
 *   day): about 1/7 of the secrets per daily run.
 *
 * The policy is the rotator's only in projects with consumers, or where the tag shows it put
 * one (consumers removed from config: the policy is removed). Elsewhere it is left alone. A
 * failed repair never fails the row: the row says so, the tag is not updated, and the next run
 * tries again.
 */

type Mode =
  /** The first certificate of an empty secret was just stored: the policy's first write. */
  | 'first'
  /** A certificate was just stored or promoted. */
  | 'stored'
  /** Nothing else was done to the secret this run. */
  | 'untouched';

interface PolicyStep {
  finding?: DriftFinding;
  /** The policy tag to record now that the policy is in place. */
  tag?: string;
}

const POLICY = 'resource policy';

/** The day (0 … days − 1) a secret's policy is audited: stable, whatever the number of secrets. */
export const auditSlot = (secretName: string, days: number): number =>
  createHash('sha256').update(secretName).digest().readUInt32BE(0) % days;

export const auditDue = (secretName: string, now: Date, days: number): boolean => {
  const period = Math.max(1, Math.floor(days));
  return auditSlot(secretName, period) === Math.floor(now.getTime() / DAY_MS) % period;
};

const unrepaired = (what: DriftFinding['what'], found: string, err: unknown): DriftFinding => {
  // Store errors carry names and codes only; anything else is named, never quoted.
  if (err instanceof RotatorError) {
    return {
      what,
      found,
      repaired: false,
      error: err.message,
      errorCode: err.code,
      remedy: err.remedy,
    };
  }
  return { what, found, repaired: false, error: `unexpected error (${asError(err).name})` };
};

const settlePolicy = async (
  run: Run,
  user: UserRef,
  state: SecretState,
  mode: Mode,
): Promise<PolicyStep> => {
  const { store } = run.ctx;
  const want = wantedPolicy(run.ctx.consumers?.(user.projectId) ?? []);
  const tagged = state.policyTag;
  if (want.document === undefined && (tagged === undefined || tagged === NO_POLICY)) return {};
  const configChanged = tagged !== undefined && tagged !== want.hash;
  let found = configChanged
    ? `consumers ${want.document === undefined ? 'removed from' : 'changed in'} config`
    : 'could not be checked';
  try {
    if (mode === 'first') {
      found = 'not yet put on the new secret';
      await store.putPolicy(state, want.document);
      return { tag: want.hash };
    }
    if (!configChanged) {
      // An untagged secret (from before the tag, or whose first write failed) is read any day.
      const audit = auditDue(state.name, run.ctx.clock.now(), run.tuning.policyAuditDays);
      if (mode === 'untouched' && tagged !== undefined && !audit) return {};
      const actual = await store.readPolicy(state);
      if (samePolicy(actual, want.document)) return tagged === want.hash ? {} : { tag: want.hash };
      found =
        tagged === undefined
          ? 'not as configured'
          : `${actual === undefined ? 'removed' : 'changed'} outside the rotator`;
    }
    await store.putPolicy(state, want.document);
    const finding: DriftFinding = { what: POLICY, found, repaired: true };
    return tagged === want.hash ? { finding } : { finding, tag: want.hash };
  } catch (err) {
    return { finding: unrepaired(POLICY, found, err) };
  }
};

const logged = (run: Run, user: UserRef, findings: DriftFinding[]): DriftFinding[] => {
  for (const f of findings) {
    const attributes = {
      projectId: user.projectId,
      username: user.username,
      what: f.what,
      found: f.found,
      errorCode: f.errorCode,
    };
    if (f.repaired) run.ctx.log.info('drift repaired', attributes);
    else run.ctx.log.warn('drift not repaired; the next run retries', attributes);
  }
  return findings;
};

/**
 * After a certificate was stored in the secret (`first`: into an empty one) or promoted: the
 * policy is settled, then the expiry tag is written with the policy tag, in one write.
 */
export const settleStored = async (
  run: Run,
  user: UserRef,
  state: SecretState,
  notAfter: Date,
  first: boolean,
): Promise<DriftFinding[]> => {
  const step = await settlePolicy(run, user, state, first ? 'first' : 'stored');
  // A new secret was created with its replicas; the next run checks they are in sync.
  run.ledger.noteReplicas(user, state.replicaTag?.regions ?? []);
  const findings = step.finding ? [step.finding] : [];
  // After a promotion, the day the rotator itself read the secret: accesses on it prove no
  // consumer reloaded (`stale-readers.ts`). A first certificate replaces none.
  const tagged = first
    ? await run.ctx.store.tagNotAfter(state, notAfter, step.tag)
    : await run.ctx.store.tagNotAfter(state, notAfter, step.tag, run.ctx.clock.now());
  if (!tagged && step.tag !== undefined) {
    findings.push({
      what: 'tags',
      found: 'policy tag out of date',
      repaired: false,
      error: 'the tag write failed; the next run puts the policy again',
    });
  }
  return logged(run, user, findings);
};

/**
 * A healthy secret nothing else was done to: the policy by its tag (and on its audit day by a
 * read), and a missing expiry tag. Nothing is written once the run is short of time.
 */
export const reconcileUntouched = async (
  run: Run,
  user: Parameters<typeof settleReplicas>[1],
  state: SecretState | undefined,
  held: CertificateDates | undefined,
): Promise<DriftFinding[]> => {
  if (!state || state.deletedDate || !state.currentVersionId) return [];
  if (outOfTime(run)) {
    const late = replicasOutOfTime(user, state);
    const want = wantedPolicy(run.ctx.consumers?.(user.projectId) ?? []);
    if ((state.policyTag ?? NO_POLICY) === want.hash) return logged(run, user, late);
    const found =
      state.policyTag === undefined
        ? 'not yet checked'
        : `consumers ${want.document === undefined ? 'removed from' : 'changed in'} config`;
    return logged(run, user, [
      { what: POLICY, found, repaired: false, error: 'out of time for this run' },
      ...late,
    ]);
  }
  const step = await settlePolicy(run, user, state, 'untouched');
  const replicas = await settleReplicas(run, user, state);
  run.ledger.noteReplicas(user, replicas.regions);
  const findings = [...(step.finding ? [step.finding] : []), ...replicas.findings];
  const tags: RotatorTags = {};
  if (step.tag !== undefined) tags.policy = step.tag;
  if (replicas.tag) tags.replicas = replicas.tag;
  const expiryMissing = state.notAfterHint === undefined && held !== undefined;
  if (expiryMissing) tags.notAfter = held.notAfter;
  if (tags.policy === undefined && tags.notAfter === undefined && !tags.replicas) {
    return logged(run, user, findings);
  }
  try {
    await run.ctx.store.tag(state, tags);
    if (expiryMissing) findings.push({ what: 'tags', found: 'expiry tag missing', repaired: true });
  } catch (err) {
    const found = expiryMissing
      ? 'expiry tag missing'
      : tags.policy !== undefined
        ? 'policy tag out of date'
        : 'replicas tag out of date';
    findings.push(unrepaired('tags', found, err));
  }
  return logged(run, user, findings);
};

const note = (f: DriftFinding): string => {
  if (f.what === REPLICAS) {
    if (f.repaired) return `repaired the replicas (${f.found})`;
    const code = f.errorCode ? ` [${f.errorCode}]` : '';
    return `replicas: ${f.found}: ${f.error}${code}`;
  }
  const subject = f.what === POLICY ? "the consumers' resource policy" : "the rotator's tags";
  if (f.repaired) return `repaired ${subject} (${f.found})`;
  const code = f.errorCode ? ` [${f.errorCode}]` : '';
  return `could not repair ${subject} (${f.found}): ${f.error}${code}; the next run retries`;
};

/**
 * The row with what drift was found. The reason names a repaired policy or replica and whatever
 * could not be repaired; a repaired tag is housekeeping, listed in `drift` only. A replica that
 * failed (a finding with an error code) fails the row: the certificate does not reach a Region
 * that needs it, and the failure alarm and event say so.
 */
export const withDrift = (o: Outcome, drift: readonly DriftFinding[] | undefined): Outcome => {
  if (!drift || drift.length === 0) return o;
  const notes = drift.filter((f) => !f.repaired || f.what !== 'tags').map(note);
  const drifted: Outcome = {
    ...o,
    reason: notes.length > 0 ? `${o.reason}; ${notes.join('; ')}` : o.reason,
    drift: [...drift],
  };
  const failing = drift.find((f) => f.what === REPLICAS && !f.repaired && f.errorCode);
  if (!failing || o.action === 'failed') return drifted;
  return {
    ...drifted,
    action: 'failed',
    errorCode: failing.errorCode,
    ...(failing.remedy ? { remedy: failing.remedy } : {}),
  };
};
