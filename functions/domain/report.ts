import type { FailureCode } from './error-codes.js';

/**
 * The run report: one row for every user the run covered, the same for the CLI (`--json`) and
 * the Lambda's return value. It never holds key material.
 */

export const ACTIONS = ['rotated', 'resumed', 'skipped', 'planned', 'deferred', 'failed'] as const;
export type Action = (typeof ACTIONS)[number];

export interface UserReport {
  projectId: string;
  username: string;
  secretName: string;
  secretArn: string | undefined;
  action: Action;
  /** Why, in words an operator understands. */
  reason: string;
  /** The certificate the secret holds after the run. */
  serialNumber: string | undefined;
  notAfter: string | undefined;
  /** On failure: Atlas's `errorCode`, or ours (`error-codes.ts`). */
  errorCode?: FailureCode;
  /** On failure: what to do next. */
  remedy?: string;
  /** Serials of unexpired Atlas certificates whose keys no secret holds. */
  orphans: string[];
  /** Of `orphans`, those no earlier run reported (absent: none). */
  newOrphans?: string[];
  /**
   * `none`: the user is known to hold no certificate (no secret, or one with no current
   * version). On deferred and failed rows only, which otherwise carry the expiry known before
   * the run in `notAfter`; neither set means the run could not tell.
   */
  certificate?: 'none';
  /** What the secret carried out of line besides its value, and whether the run repaired it. */
  drift?: DriftFinding[];
  /** The login check of a new certificate (projects with `verify.uri` only). */
  verify?: VerifyReport;
  /**
   * `stale`: the certificate the secret's previous version holds expires within the config's
   * `rotation.staleConsumerDays`, and nobody read the secret after the day its current version
   * was promoted: its applications still present the previous certificate (`reason` says when
   * it expires). Absent: nothing to tell (on skipped rows only).
   */
  consumers?: 'stale';
  /** The ARNs of the secret's replicas in other Regions, as far as the run knows (absent: none). */
  replicaArns?: string[];
}

/** One thing found out of line on a secret: its resource policy, replicas or the rotator's tags. */
export interface DriftFinding {
  what: 'resource policy' | 'replicas' | 'tags';
  /** What was out of line, e.g. `consumers changed in config`. */
  found: string;
  repaired: boolean;
  /** When not repaired: why, the error code and what to do. The next run tries again. */
  error?: string;
  errorCode?: FailureCode;
  remedy?: string;
}

/**
 * `passed`: the new certificate logged in and answered `ping`. `failed`: it did not, and stays
 * AWSPENDING (the row fails with VERIFY_FAILED). `bypassed`: it did not, and was made current
 * anyway: the certificate it replaces (or none) was within `criticalDays` of expiry.
 */
export interface VerifyReport {
  outcome: 'passed' | 'failed' | 'bypassed';
  /** Why it did not pass, in the driver's words. */
  error?: string;
}

/** The reason of every row a run-wide failure stopped: the report's `error` tells the rest. */
export const STOPPED_REASON = 'run stopped (see error)';

export interface RunFailure {
  code: FailureCode;
  message: string;
  remedy: string;
}

/** The rotator's own Atlas credential: a service account secret expires too. */
export interface CredentialStatus {
  kind: 'serviceAccount';
  clientId: string;
  /** When the secret in use (or, if it cannot be told apart, the newest one) expires. */
  secretExpiresAt?: string;
  daysToExpiry?: number;
  /** Why the expiry could not be read (e.g. the service account lacks an org role). */
  error?: string;
}

/** How a run was started: by the regular schedule, the catch-up schedule, or by hand. */
export type RunTrigger = 'schedule' | 'catch-up' | 'manual';

/** After a run that left users deferred: a catch-up run follows, or (`schedule`) why not. */
export type CatchUpReport =
  | { next: 'catch-up'; deferred: number; runs: number; of: number; since: string }
  | { next: 'schedule'; reason: string };

export interface RunReport {
  runId: string;
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  summary: Record<Action, number> & { users: number; orphans: number };
  /** Set when the run stopped early (e.g. rejected Atlas credentials). */
  error?: RunFailure;
  /** Set when the config names the organization and the credential is a service account. */
  credential?: CredentialStatus;
  /** Where the run's EventBridge events went, or why none were sent. */
  events?: EventsOutcome;
  /** Who started the run (the Lambda's payload; the CLI is `manual`). */
  trigger?: RunTrigger;
  /** Whether a catch-up run follows (users were deferred), or why not. */
  catchUp?: CatchUpReport;
  /** Why the run did nothing: a catch-up tick with nothing to catch up, or another run at work. */
  notRun?: string;
  /** With `notRun`, when the run lock refused the run: who holds it, and what becomes of this run. */
  lockedOut?: LockedOut;
  /** A forced run's request identity (`requestId`, or the hash of a `requestedAt` payload). */
  requestId?: string;
  /** A forced run without an identity: why its retry would mint again. */
  requestNote?: string;
  users: UserReport[];
}

/**
 * A run the run lock refused (`rotation/catch-up.ts`). `holder`: the run id holding the lock;
 * `until`: when its lock lapses unless renewed; `retry`: what does this run's work instead
 * (the catch-up schedule, a note being left; or nothing, and what to do).
 */
export interface LockedOut {
  holder: string;
  until: string;
  retry: string;
}

/**
 * `bus`: the bus the events were put on (`default` or `ROTATOR_EVENT_BUS`), how many it
 * accepted and how many were dropped. `skipped`: why nothing was sent (a dry run, or a local run
 * whose events would have reached a real bus).
 */
export type EventsOutcome =
  | { bus: string; published: number; dropped: number }
  | { skipped: string };

export const summarize = (users: readonly UserReport[]): RunReport['summary'] => {
  const summary = {
    users: users.length,
    orphans: 0,
    ...Object.fromEntries(ACTIONS.map((a) => [a, 0])),
  } as RunReport['summary'];
  for (const user of users) {
    summary[user.action] += 1;
    summary.orphans += user.orphans.length;
  }
  return summary;
};

/**
 * Exit status: 0 when nothing failed, 1 when a user or the run failed, or the run lock refused
 * the run (it did nothing the operator asked for).
 */
export const exitCodeFor = (report: RunReport): 0 | 1 =>
  report.error || report.summary.failed > 0 || report.lockedOut ? 1 : 0;
