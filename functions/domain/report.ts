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
  /** On failure: Atlas's `errorCode`, or ours. */
  errorCode?: string;
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
}

/** One thing found out of line on a secret: its resource policy or the rotator's tags. */
export interface DriftFinding {
  what: 'resource policy' | 'tags';
  /** What was out of line, e.g. `consumers changed in config`. */
  found: string;
  repaired: boolean;
  /** When not repaired: why, the error code and what to do. The next run tries again. */
  error?: string;
  errorCode?: string;
  remedy?: string;
}

/** The reason of every row a run-wide failure stopped: the report's `error` tells the rest. */
export const STOPPED_REASON = 'run stopped (see error)';

export interface RunFailure {
  code: string;
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
  users: UserReport[];
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

/** Exit status: 0 when nothing failed, 1 when a user or the run failed. */
export const exitCodeFor = (report: RunReport): 0 | 1 =>
  report.error || report.summary.failed > 0 ? 1 : 0;
