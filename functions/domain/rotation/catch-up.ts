import { asError, RotatorError } from '../errors.js';
import type { Log } from '../log.js';
import { DAY_MS } from '../renewal.js';
import type { CatchUpReport, RunReport, RunTrigger, UserReport } from '../report.js';
import type { LeasePort } from './ports.js';

/**
 * Catch-up runs: a run that ends with users `deferred` (out of time, or Atlas's bucket spent)
 * leaves a note in the lease table, and the short catch-up schedule's next tick runs again, so
 * a first deployment over a stingy bucket finishes in hours instead of one scheduled run a day.
 * Bounded (`rotation.catchUpRuns` in a row, then the regular schedule continues) and never
 * overlapping: scheduled and catch-up runs hold the run lock (`RUN_LOCK_KEY`) while they work,
 * since the write pace is per process and two runs at once could exceed the account's quota.
 */

/** The lease-table key of the run lock; user keys are `lease/<projectId>/<username>` (`leaseKey`). */
export const RUN_LOCK_KEY = '#run';

/** What the lease table keeps between runs. */
export interface CatchUpState {
  /** Catch-up runs made since the regular run that left users deferred. */
  runs: number;
  /** When the first run of this chain ended with users deferred (ISO 8601). */
  since: string;
}

/** Where the state lives (the lease table). */
export interface CatchUpStore {
  readCatchUp(): Promise<CatchUpState | undefined>;
  /** Writes the state, or removes it (undefined): nothing left to catch up. */
  writeCatchUp(state: CatchUpState | undefined): Promise<void>;
}

/** The state after a run, and what to tell the operator about it. */
export const afterRun = (
  report: Pick<RunReport, 'summary' | 'finishedAt' | 'users'>,
  trigger: RunTrigger,
  previous: CatchUpState | undefined,
  maxRuns: number,
  canWait: (row: UserReport) => boolean = () => false,
): { state: CatchUpState | undefined; report: CatchUpReport } => {
  if (report.summary.deferred === 0) {
    return { state: undefined, report: { next: 'schedule', reason: 'nothing deferred' } };
  }
  // Deferred before anyone looked, but known (by the tagged expiry) to be far from renewal.
  const deferred = report.users.filter((u) => u.action === 'deferred' && !canWait(u)).length;
  if (deferred === 0) {
    const reason = `the ${report.summary.deferred} users left hold certificates far from renewal; the regular schedule checks them`;
    return { state: undefined, report: { next: 'schedule', reason } };
  }
  // Most urgent first: a catch-up run that rotated nobody left only users that can wait (or
  // Atlas gave it no token at all), and another one would only check the same users again.
  if (trigger === 'catch-up' && report.summary.rotated + report.summary.resumed === 0) {
    const reason = `the catch-up run rotated nobody; the ${deferred} users left wait for the regular schedule`;
    return { state: undefined, report: { next: 'schedule', reason } };
  }
  const runs = trigger === 'catch-up' ? (previous?.runs ?? 0) + 1 : 0;
  if (maxRuns === 0 || runs >= maxRuns) {
    const reason =
      maxRuns === 0
        ? 'catch-up runs are off (rotation.catchUpRuns: 0)'
        : `${runs} catch-up runs in a row; the regular schedule continues`;
    return { state: undefined, report: { next: 'schedule', reason } };
  }
  const since = (trigger === 'catch-up' ? previous?.since : undefined) ?? report.finishedAt;
  return {
    state: { runs, since },
    report: { next: 'catch-up', deferred, runs, of: maxRuns, since },
  };
};

/** Whether a run goes ahead, and what it needs to finish. */
export type Gate =
  | { go: true; previous: CatchUpState | undefined; locked: boolean }
  | { go: false; reason: string };

interface GateDeps {
  notes: CatchUpStore;
  leases: LeasePort;
  log: Log;
}

const why = (err: unknown): string => (err instanceof RotatorError ? err.code : asError(err).name);

/**
 * Before a run: a catch-up tick with nothing to catch up ends here (one read); a scheduled or
 * catch-up run takes the run lock, or ends here while another run holds it. A lock that cannot
 * be taken for another reason does not stop the run: per-user leases still keep two runs from
 * minting for one user, and a missing lease table fails the run where it is needed.
 */
export const gateRun = async (
  deps: GateDeps,
  trigger: RunTrigger,
  dryRun: boolean,
): Promise<Gate> => {
  if (dryRun || trigger === 'manual') return { go: true, previous: undefined, locked: false };
  let previous: CatchUpState | undefined;
  if (trigger === 'catch-up') {
    try {
      previous = await deps.notes.readCatchUp();
    } catch (err) {
      return { go: false, reason: `cannot read the catch-up note (${why(err)})` };
    }
    if (!previous) return { go: false, reason: 'nothing to catch up' };
  }
  try {
    const lock = await deps.leases.acquire(RUN_LOCK_KEY);
    if (!lock.acquired) {
      return {
        go: false,
        reason: `another run (${lock.owner}) holds the run lock until ${lock.expiresAt.toISOString()}`,
      };
    }
  } catch (err) {
    deps.log.warn('cannot take the run lock; running without it', { errorCode: why(err) });
    return { go: true, previous, locked: false };
  }
  return { go: true, previous, locked: true };
};

/**
 * Whether a deferred row can wait for the regular schedule: its tagged expiry is further away
 * than its renewal window (at most `windowDays(row)`) and a day.
 */
export const farFromRenewal =
  (windowDays: (row: UserReport) => number, now: Date) =>
  (row: UserReport): boolean =>
    row.notAfter !== undefined &&
    Date.parse(row.notAfter) - now.getTime() > (windowDays(row) + 1) * DAY_MS;

/** After a run: the catch-up note for the next tick (best effort). */
export const finishRun = async (
  deps: GateDeps,
  gate: Gate & { go: true },
  trigger: RunTrigger,
  report: RunReport,
  maxRuns: number,
  canWait?: (row: UserReport) => boolean,
): Promise<CatchUpReport | undefined> => {
  if (report.dryRun) return undefined;
  const next = afterRun(report, trigger, gate.previous, maxRuns, canWait);
  try {
    // A run with nothing deferred and no note before it has nothing to clear, unless it is a
    // scheduled run, which does not read the note first.
    if (next.state || gate.previous || trigger === 'schedule')
      await deps.notes.writeCatchUp(next.state);
  } catch (err) {
    deps.log.warn('cannot write the catch-up note', { errorCode: why(err) });
  }
  return next.report;
};

/** Releases the run lock, whatever happened to the run; a lock left behind lapses by itself. */
export const releaseRun = async (deps: GateDeps, gate: Gate & { go: true }): Promise<void> => {
  if (!gate.locked) return;
  await deps.leases.release(RUN_LOCK_KEY).catch((err: unknown) => {
    deps.log.warn('cannot release the run lock; it lapses by itself', { errorCode: why(err) });
  });
};
