import { asError, RotatorError } from '../errors.js';
import type { Log } from '../log.js';
import { DAY_MS } from '../renewal.js';
import type { CatchUpReport, LockedOut, RunReport, RunTrigger, UserReport } from '../report.js';
import type { LeasePort } from './ports.js';

/**
 * Catch-up runs: a run that ends with users `deferred` (out of time, or Atlas's bucket spent)
 * leaves a note in the lease table, and the short catch-up schedule's next tick runs again, so
 * a first deployment over a stingy bucket finishes in hours instead of one scheduled run a day.
 * Bounded (`rotation.catchUpRuns` in a row, then the regular schedule continues) and never
 * overlapping: every writing run (scheduled, catch-up, manual: forced invokes and the CLI) holds
 * the run lock (`RUN_LOCK_KEY`) while it works, since the write pace is per process and two runs
 * at once could exceed the account's quota. A scheduled run the lock refused leaves a note, so
 * the catch-up schedule does its work.
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
  | { go: false; reason: string; lockedOut?: LockedOut };

interface GateDeps {
  notes: CatchUpStore;
  leases: LeasePort;
  log: Log;
}

export interface GateOptions {
  /** `rotation.catchUpRuns`: 0 means no catch-up run will pick up a refused scheduled run. */
  maxRuns: number;
  /** How long a manual run waits for the run lock before it gives up (polling). @default 0 */
  waitMs?: number | undefined;
  /** Told before each wait: who holds the lock, and how long this run may still wait. */
  onWait?: ((holder: string, leftMs: number) => void) | undefined;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

/** How often a manual run waiting for the run lock asks again. */
export const LOCK_POLL_MS = 5_000;

const why = (err: unknown): string => (err instanceof RotatorError ? err.code : asError(err).name);

/**
 * What becomes of a run the lock refused. A scheduled run leaves a catch-up note (unless one is
 * there: a chain is under way and must keep its count), so the catch-up schedule's next tick does
 * its work once the holder is done; a catch-up tick keeps the note it found; a manual run is the
 * operator's to run again.
 */
const refused = async (
  deps: GateDeps,
  trigger: RunTrigger,
  holder: { owner: string; expiresAt: Date },
  options: GateOptions,
  previous: CatchUpState | undefined,
): Promise<Gate & { go: false }> => {
  const until = holder.expiresAt.toISOString();
  const reason = `another run (${holder.owner}) holds the run lock until ${until}`;
  const out = (retry: string) => ({
    go: false as const,
    reason: `${reason}; ${retry}`,
    lockedOut: { holder: holder.owner, until, retry },
  });
  if (trigger === 'manual') {
    return out(
      `nothing was done: run again once it has finished (at the latest ${until}); every writing run holds the lock so that writes stay within Secrets Manager's per-account quota`,
    );
  }
  if (trigger === 'catch-up') return out('the catch-up note stays: the next tick runs it');
  if (options.maxRuns === 0) {
    return out(
      'not retried: catch-up runs are off (rotation.catchUpRuns: 0); the next scheduled run does its work',
    );
  }
  try {
    const note = previous ?? (await deps.notes.readCatchUp());
    const since = (options.now ?? (() => new Date()))().toISOString();
    if (!note) await deps.notes.writeCatchUp({ runs: 0, since });
    return out('a catch-up note is left: the catch-up schedule runs it once the lock is free');
  } catch (err) {
    deps.log.warn('cannot leave a catch-up note for the refused run', { errorCode: why(err) });
    return out(`not retried: the catch-up note could not be written (${why(err)})`);
  }
};

/**
 * Before a run: a catch-up tick with nothing to catch up ends here (one read); every writing
 * run takes the run lock, or ends here while another run holds it (a manual run may wait
 * `waitMs` for it). One writing run at a time keeps the write pace (`write-pace.ts`, per
 * process) within Secrets Manager's per-account quota: the schedule, a forced invoke and the
 * CLI alike. A lock that cannot be taken for another reason does not stop the run: per-user
 * leases still keep two runs from minting for one user, and a missing lease table fails the run
 * where it is needed.
 */
export const gateRun = async (
  deps: GateDeps,
  trigger: RunTrigger,
  dryRun: boolean,
  options: GateOptions = { maxRuns: 1 },
): Promise<Gate> => {
  // A dry run writes nothing: it neither waits for nor holds up anyone.
  if (dryRun) return { go: true, previous: undefined, locked: false };
  let previous: CatchUpState | undefined;
  if (trigger === 'catch-up') {
    try {
      previous = await deps.notes.readCatchUp();
    } catch (err) {
      return { go: false, reason: `cannot read the catch-up note (${why(err)})` };
    }
    if (!previous) return { go: false, reason: 'nothing to catch up' };
  }
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? ((ms: number) => new Promise((r) => setTimeout(r, ms)));
  const giveUpAt = now().getTime() + (trigger === 'manual' ? (options.waitMs ?? 0) : 0);
  try {
    for (;;) {
      const lock = await deps.leases.acquire(RUN_LOCK_KEY);
      if (lock.acquired) break;
      const left = giveUpAt - now().getTime();
      if (left <= 0) return await refused(deps, trigger, lock, options, previous);
      deps.log.info('waiting for the run lock', { holder: lock.owner, waitMs: left });
      options.onWait?.(lock.owner, left);
      await sleep(Math.min(LOCK_POLL_MS, left));
    }
  } catch (err) {
    // A missing table stops the run with its own error at once; the report says it, once.
    if (why(err) !== 'LEASE_TABLE_MISSING') {
      deps.log.warn('cannot take the run lock; running without it', { errorCode: why(err) });
    }
    return { go: true, previous, locked: false };
  }
  return { go: true, previous, locked: true };
};

/**
 * Keeps a held run lock alive while the run works: a run may last longer than one lease (a CLI
 * run has no deadline; `locks.leaseSeconds` may be shorter than Lambda's 15 minutes). Re-taking
 * our own lease moves its expiry. Returns the function that stops it.
 */
export const keepRunLock = (
  deps: GateDeps,
  gate: Gate & { go: true },
  everyMs: number,
): (() => void) => {
  if (!gate.locked) return () => {};
  const timer = setInterval(() => {
    deps.leases.acquire(RUN_LOCK_KEY).then(
      (lock) => {
        if (!lock.acquired) deps.log.warn('the run lock was taken over', { holder: lock.owner });
      },
      (err: unknown) => deps.log.warn('cannot renew the run lock', { errorCode: why(err) }),
    );
  }, everyMs);
  // Never keeps a finished CLI process alive.
  timer.unref?.();
  return () => clearInterval(timer);
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
