import type { UserSettings } from '../config/types.js';
import { asError, RotatorError } from '../errors.js';
import type { Assessment } from './assess.js';
import { outOfTime } from './deadlines.js';
import { type Outcome, outcome, unexpected } from './outcomes.js';
import type { Run } from './run-state.js';

/**
 * Acquire: the lease that makes overlapping runs (the schedule, a manual invoke, the CLI) take
 * turns on a user. The renewal releases it whatever happens.
 */

export const leaseKey = (projectId: string, username: string): string =>
  `lease/${projectId}/${username}`;

/** The lease on a user, or the row of a user that does not get one. */
export type Lease =
  | {
      held: true;
      /** Epoch ms at which the lease lapses. */
      until: number;
      /** Best effort: a lease not released lapses on its own. */
      release: () => Promise<void>;
    }
  | { held: false; outcome: Outcome };

/**
 * A missing or unreachable lease table stops the run: minting without a lease is unsafe.
 * Checked once, when the first user turns out due.
 */
const checkLeaseTable = (run: Run): Promise<void> => {
  run.leaseTableChecked ??= run.ctx.leases.check().catch((err: unknown) => {
    // Whatever the failure, the run reports it: an error thrown from here would lose the report.
    run.ledger.failRun(err instanceof RotatorError ? err : unexpected(err, 'run'));
  });
  return run.leaseTableChecked;
};

/**
 * Takes the lease on a due user: not when the lease table's check stopped the run, the run is
 * out of time, or another run holds it. A lease that cannot be taken throws (its scope decides).
 */
export const acquire = async (run: Run, user: UserSettings, first: Assessment): Promise<Lease> => {
  const { ctx, ledger } = run;
  await checkLeaseTable(run);
  const stopped = ledger.stopped(user);
  if (stopped) return { held: false, outcome: stopped };
  if (outOfTime(run)) {
    const reason = `out of time for this run (${first.decision.reason}); the next run continues`;
    return { held: false, outcome: outcome(first, 'deferred', reason) };
  }
  const key = leaseKey(user.projectId, user.username);
  const lease = await ctx.leases.acquire(key);
  if (!lease.acquired) {
    const until = lease.expiresAt.toISOString();
    const reason = `another run holds the lease (${lease.owner}, until ${until})`;
    return { held: false, outcome: outcome(first, 'skipped', reason) };
  }
  const release = () =>
    ctx.leases.release(key).catch((err: unknown) =>
      ctx.log.warn('could not release lease; it lapses on its own', {
        key,
        error: asError(err).name,
      }),
    );
  return { held: true, until: lease.expiresAt.getTime(), release };
};
