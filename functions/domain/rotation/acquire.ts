import type { UserSettings } from '../config.js';
import { asError, RotatorError } from '../errors.js';
import type { Assessment } from './assess.js';
import { assess } from './assess.js';
import { outOfTime } from './deadlines.js';
import { issue } from './issue.js';
import { outcome, serialsOf, unexpected } from './outcomes.js';
import type { Run } from './run-state.js';

/**
 * Acquire: the lease that makes overlapping runs (the schedule, a manual invoke, the CLI) take
 * turns on a user. Inside it the secret is read again, then the user is issued; the lease is
 * released whatever happens.
 */

export const leaseKey = (projectId: string, username: string): string =>
  `lease/${projectId}/${username}`;

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

/** Leased work on one due user. Records its row whatever happens. */
export const handleDue = async (run: Run, user: UserSettings, first: Assessment): Promise<void> => {
  const { ctx, ledger } = run;
  await checkLeaseTable(run);
  const stopped = ledger.stopped(user);
  if (stopped) return ledger.record(user, stopped);
  if (outOfTime(run)) {
    return ledger.record(
      user,
      outcome(
        first,
        'deferred',
        `out of time for this run (${first.decision.reason}); the next run continues`,
      ),
    );
  }
  const key = leaseKey(user.projectId, user.username);
  let current = first;
  const lost: string[] = [];
  try {
    const lease = await ctx.leases.acquire(key);
    if (!lease.acquired) {
      const until = lease.expiresAt.toISOString();
      return ledger.record(
        user,
        outcome(first, 'skipped', `another run holds the lease (${lease.owner}, until ${until})`),
      );
    }
    try {
      // Inside the lease, read the secret again: another run may have finished this user
      // meanwhile. Atlas's list from a moment ago stands (a certificate minted since then by
      // a crashed run shows up as an orphan next time). A user without a secret needs no
      // second read: creating the secret tells whether another run made it meanwhile.
      current = first.state ? await assess(run, user, undefined, first.listed) : first;
      if (!current.decision.due) {
        return ledger.record(
          user,
          outcome(
            current,
            'skipped',
            `${current.decision.reason} (rotated by another run meanwhile)`,
          ),
        );
      }
      ledger.record(user, await issue(run, user, current, lost, lease.expiresAt.getTime()));
    } finally {
      await ctx.leases.release(key).catch((err: unknown) =>
        ctx.log.warn('could not release lease; it lapses on its own', {
          key,
          error: asError(err).name,
        }),
      );
    }
  } catch (err) {
    ledger.record(
      user,
      ledger.failUser(user, err, {
        state: current.state,
        held: current.held,
        orphans: [...new Set([...serialsOf(current.orphans), ...lost])],
      }),
    );
  }
};
