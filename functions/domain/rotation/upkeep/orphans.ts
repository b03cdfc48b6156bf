import { orphansTagValue } from '../../stored-value.js';
import type { UserRef } from '../request.js';
import type { Run } from '../run-state.js';

/**
 * Orphans seen across runs. An orphan stands until it expires (Atlas cannot delete it), so a
 * count of every standing orphan on every run says nothing new. The user's secret carries the
 * serials already reported in a tag, which `ListSecrets` returns for free; a row's
 * `newOrphans` are those the tag lacks, and the tag is rewritten only when there are some.
 */

/** After the user's row: records its orphans on the secret when the row found new ones. */
export const rememberOrphans = async (
  run: Run,
  user: UserRef & { secretName: string },
): Promise<void> => {
  const row = run.ledger.rowOf(user);
  if (run.request.dryRun || !row?.newOrphans || !row.secretArn) return;
  // The row's orphans are the standing set as listed now (it holds new ones only when the list
  // was read): writing them drops serials that have expired since.
  const value = orphansTagValue(row.orphans);
  const seen = run.ledger.orphansSeen(user);
  // Past the tag's room the same value would be written every run: skip it.
  if (value === orphansTagValue(seen)) return;
  const saved = await run.ctx.store.tagOrphans(
    { name: user.secretName, arn: row.secretArn },
    row.orphans,
  );
  if (!saved) {
    run.ctx.log.warn('could not record the orphans on the secret; the next run counts them again', {
      projectId: user.projectId,
      username: user.username,
    });
  }
};
