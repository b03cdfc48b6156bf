import type { UserSettings } from '../config/types.js';
import type { SecretState } from '../stored-value.js';
import { outOfTime } from './deadlines.js';
import { outcome, type Result, refused } from './outcomes.js';
import type { Run } from './run-state.js';

/**
 * Triage: the rows a user gets before anything is read — stopped with its project or the run,
 * a secret name another user shares, disabled, or no time (or Atlas's budget) left to start.
 * Undefined: the user goes on to its assessment.
 */
export const triage = (
  run: Run,
  user: UserSettings,
  sharesSecretWith: string | undefined,
  indexed: SecretState | null | undefined,
): Result | undefined => {
  const { ledger, request } = run;
  const stopped = ledger.stopped(user);
  if (stopped) return stopped;
  if (sharesSecretWith) {
    return refused({
      code: 'SECRET_NAME_COLLISION',
      message: `secret name ${user.secretName} is also the name for ${sharesSecretWith}`,
      remedy: 'Give one of the users an explicit secretName, or exclude one from discovery.',
    });
  }
  if (!user.enabled) return outcome(undefined, 'skipped', 'disabled in config (enabled: false)');
  const late = outOfTime(run);
  if (!request.dryRun && (late || run.pace.paused(user.projectId))) {
    return {
      secretArn: indexed?.arn,
      action: 'deferred',
      reason: late
        ? 'out of time for this run; the next run continues'
        : 'Atlas is rate-limiting this run; the budget goes to users in flight, the next run continues',
      serialNumber: undefined,
      notAfter: indexed?.notAfterHint?.toISOString(),
      orphans: [],
    };
  }
  return undefined;
};
