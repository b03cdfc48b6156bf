import type { UserSettings } from '../../config/types.js';
import type { SecretState } from '../../stored-value.js';
import type { Run } from '../run-state.js';

/**
 * Removes an AWSPENDING label that a promotion stopped between its two label moves left on the
 * current version. Safe without a lease: the removal names the current version, so it cannot
 * touch a pending version another run is writing. Best effort; returns a note for the report.
 */
export const tidyPendingLabel = async (
  run: Run,
  user: UserSettings,
  state: SecretState | undefined,
): Promise<string> => {
  if (!state?.pendingOnCurrent || !state.currentVersionId) return '';
  try {
    await run.ctx.store.dropPending(state, state.currentVersionId);
    return '; removed an AWSPENDING label left on the current version';
  } catch (err) {
    run.ctx.log.warn('could not remove an AWSPENDING label left on the current version', {
      projectId: user.projectId,
      username: user.username,
      error: err instanceof Error ? err.name : 'unknown',
    });
    return '';
  }
};
