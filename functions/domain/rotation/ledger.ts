import { DeadlineError, type FailureCode, RotatorError } from '../errors.js';
import type { Log } from '../log.js';
import { replicaArns } from '../replicas.js';
import { type RunFailure, STOPPED_REASON, type UserReport } from '../report.js';
import type { SecretState } from '../stored-value.js';
import {
  type FailureBasis,
  heldFields,
  isFailure,
  type Outcome,
  outcome,
  type Result,
  toDates,
  UserFailure,
  unexpected,
} from './outcomes.js';
import { keyOf, sameUser, type UserRef } from './request.js';

type RowUser = UserRef & { secretName: string };

/**
 * The run's ledger: one row per user, the failures that stop a project or the whole run, and the
 * rules for which is which (an error's scope). Every phase reports through it; nothing else keeps
 * rows.
 */

/**
 * What a row gains from what the run knew of the secret before acting (`before`: its index
 * entry or first read; null: no secret): a deferred or failed row without an expiry gets the
 * tagged one, or `certificate: 'none'`; orphans no earlier run reported are `newOrphans`.
 */
export const knownBefore = (
  result: Outcome,
  before: SecretState | null | undefined,
): Partial<Pick<UserReport, 'notAfter' | 'certificate' | 'newOrphans'>> => {
  const added: Partial<Pick<UserReport, 'notAfter' | 'certificate' | 'newOrphans'>> = {};
  const stuck = result.action === 'deferred' || result.action === 'failed';
  if (stuck && result.notAfter === undefined && before !== undefined) {
    if (before === null || before.currentVersionId === undefined) added.certificate = 'none';
    else if (before.notAfterHint) added.notAfter = before.notAfterHint.toISOString();
  }
  const seen = new Set(before?.orphansSeen ?? []);
  const fresh = result.orphans.filter((serial) => !seen.has(serial));
  if (fresh.length > 0) added.newOrphans = fresh;
  return added;
};

export class Ledger {
  private readonly rows = new Map<string, UserReport>();
  private readonly projectFailures = new Map<string, RotatorError>();
  /** Each user's secret as first known to the run (null: none), for `knownBefore`. */
  private readonly before = new Map<string, SecretState | null>();
  /** Each user's replica Regions as this run left them, where it looked (`upkeep/replication.ts`). */
  private readonly replicas = new Map<string, readonly string[]>();
  private failure: RunFailure | undefined;

  constructor(private readonly log: Log) {}

  /** Set when the run stopped early. */
  get runFailure(): RunFailure | undefined {
    return this.failure;
  }

  /**
   * Stores the user's row and logs it; a failure becomes the user's failed row, or the stop of
   * its project or the run (its scope). Returns undefined so callers can `return record(…)`.
   */
  record(user: RowUser, given: Result): undefined {
    const result = isFailure(given) ? this.failUser(user, given.failed, given) : given;
    const row: UserReport = {
      projectId: user.projectId,
      username: user.username,
      secretName: user.secretName,
      ...result,
      ...knownBefore(result, this.before.get(keyOf(user))),
    };
    const regions =
      this.replicas.get(keyOf(user)) ?? this.before.get(keyOf(user))?.replicaTag?.regions;
    const arns = row.secretArn && regions ? replicaArns(row.secretArn, regions) : [];
    if (arns.length > 0) row.replicaArns = arns;
    this.rows.set(keyOf(user), row);
    // A user the run's stop reached is not an error of its own: the stop is logged once.
    const level =
      row.action !== 'failed' ? 'info' : row.reason === STOPPED_REASON ? 'debug' : 'error';
    this.log[level]('user done', {
      projectId: row.projectId,
      username: row.username,
      action: row.action,
      reason: row.reason,
      serialNumber: row.serialNumber,
      errorCode: row.errorCode,
      orphans: row.orphans,
    });
    return undefined;
  }

  /** What the run knew of a user's secret before acting on it; the first word stands. */
  noteSecret(user: UserRef, secret: SecretState | null): void {
    if (!this.before.has(keyOf(user))) this.before.set(keyOf(user), secret);
  }

  /** The Regions the user's secret is replicated to, as the run left them; the last word stands. */
  noteReplicas(user: UserRef, regions: readonly string[]): void {
    this.replicas.set(keyOf(user), regions);
  }

  /** The user's row, once recorded. */
  rowOf(user: UserRef): UserReport | undefined {
    return this.rows.get(keyOf(user));
  }

  /** Orphan serials earlier runs reported for the user, as far as the run knows. */
  orphansSeen(user: UserRef): readonly string[] {
    return this.before.get(keyOf(user))?.orphansSeen ?? [];
  }

  failRun(err: RotatorError): void {
    if (this.failure) return;
    this.failure = { code: err.code, message: err.message, remedy: err.remedy };
    this.log.error('run stopped', { errorCode: err.code, message: err.message });
  }

  /**
   * A project whose discovery failed: recorded as the project's failure whatever its scope, so
   * its listed users fail with it (the run cannot tell which users it was meant to cover).
   */
  discoveryFailed(projectId: string, err: unknown): void {
    if (this.escalate(projectId, err)) return;
    this.projectFailures.set(
      projectId,
      err instanceof RotatorError ? err : unexpected(err, 'project'),
    );
  }

  /** Routes an error to its scope: true when it stops the run or the project. */
  escalate(projectId: string, err: unknown): boolean {
    if (!(err instanceof RotatorError) || err.scope === 'user') return false;
    if (err.scope === 'run') {
      this.failRun(err);
    } else if (!this.projectFailures.has(projectId)) {
      this.projectFailures.set(projectId, err);
      this.log.error('project failed', { projectId, errorCode: err.code });
    }
    return true;
  }

  /** The outcome of a user a run- or project-wide failure stopped, if one did. */
  stopped(user: UserRef): Outcome | undefined {
    const projectError = this.projectFailures.get(user.projectId);
    if (projectError) return this.failed(projectError, {});
    const run = this.failure;
    if (!run) return undefined;
    // The report's `error` says what and what to do, once; each row only points at it.
    return { ...outcome(undefined, 'failed', STOPPED_REASON), errorCode: run.code };
  }

  /** Escalates `err`; the user's outcome is then the stop, or this error as its own failure. */
  failUser(user: UserRef, err: unknown, basis: FailureBasis = {}): Outcome {
    const stopped = this.escalate(user.projectId, err) ? this.stopped(user) : undefined;
    return stopped ? { ...stopped, orphans: basis.orphans ?? [] } : this.failed(err, basis);
  }

  private failed(err: unknown, basis: FailureBasis): Outcome {
    const state = basis.state ?? (err instanceof UserFailure ? err.state : undefined);
    const base = {
      ...heldFields(state, basis.held ?? toDates(state)),
      orphans: basis.orphans ?? [],
    };
    if (err instanceof DeadlineError) return { ...base, action: 'deferred', reason: err.message };
    const e = err instanceof RotatorError ? err : unexpected(err, 'user');
    return { ...base, action: 'failed', reason: e.message, errorCode: e.code, remedy: e.remedy };
  }

  /**
   * Rows in config order (discovered users after listed ones), whatever order they finished
   * in, plus rows for what has no user row: a failed discovery, an `only` the config lacks.
   */
  rowsFor(users: readonly UserRef[], only: readonly UserRef[] | undefined): UserReport[] {
    const ordered = users.flatMap((u) => this.rows.get(keyOf(u)) ?? []);
    const standalone = (ref: UserRef, reason: string, code: FailureCode, remedy: string) => ({
      ...ref,
      secretName: '-',
      ...outcome(undefined, 'failed', reason),
      errorCode: code,
      remedy,
    });
    for (const [projectId, err] of this.projectFailures) {
      if (!ordered.some((r) => r.projectId === projectId)) {
        ordered.push(standalone({ projectId, username: '*' }, err.message, err.code, err.remedy));
      }
    }
    for (const ref of only ?? []) {
      if (!users.some((u) => sameUser(u, ref)) && !this.projectFailures.has(ref.projectId)) {
        ordered.push(
          standalone(
            ref,
            'not a configured user, nor a discovered MANAGED user of a configured project',
            'USER_NOT_CONFIGURED',
            'Add the user to the config (or enable discovery for its project), or check the name.',
          ),
        );
      }
    }
    return ordered;
  }
}
