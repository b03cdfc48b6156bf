import { DeadlineError } from '../errors.js';
import type { Run } from './run-state.js';

/**
 * Deadlines: how much of the run is left, and whether a mint may still start. A run without a
 * deadline (the CLI without --time-budget) is still bounded by each user's lease.
 */

/** Milliseconds left before the run's deadline; infinite without one. */
export const timeLeft = (run: Run): number => {
  const deadline = run.ctx.deadline?.();
  return deadline === undefined
    ? Number.POSITIVE_INFINITY
    : deadline - run.ctx.clock.now().getTime();
};

/** Too little time left to start a mint (and store its key) safely. */
export const outOfTime = (run: Run): boolean => timeLeft(run) < run.tuning.minTimeForMintMs;

/** A lease is trusted until this long before it lapses (clock skew between runs). */
export const LEASE_MARGIN_MS = 30_000;

/**
 * Checked right before a create: the run's deadline and the user's lease (a run without a
 * deadline, like the CLI without --time-budget, is still bounded by it) must leave room for the
 * create and the store of its key. Returns the epoch ms after which no attempt of this create
 * may start (the Atlas client checks it again before each retry of a throttled create);
 * otherwise the user is deferred, nothing minted.
 */
export const createStartBy = (run: Run, leaseUntil: number): number => {
  const now = run.ctx.clock.now().getTime();
  const leaseLeft = leaseUntil - LEASE_MARGIN_MS - now;
  const left = Math.min(timeLeft(run), leaseLeft);
  if (left >= run.tuning.minTimeForMintMs) return now + left - run.tuning.minTimeForMintMs;
  const bound = leaseLeft < timeLeft(run) ? 'the lease on this user' : 'the run';
  throw new DeadlineError(
    `not creating: ${Math.max(0, Math.round(left / 1000))} s left of ${bound}, a create and its store need ${run.tuning.minTimeForMintMs / 1000} s; the next run continues`,
    {
      code: 'DEADLINE_EXCEEDED',
      remedy: 'Nothing was minted; the next run continues the work.',
      scope: 'user',
    },
  );
};
