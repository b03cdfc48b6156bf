import type { UserSettings } from '../config/types.js';
import type { AtlasCertificate } from './ports.js';
import type { Run } from './run-state.js';

/**
 * Reading Atlas's list after a create. The list may lag a create by seconds, so a single read
 * right after one can miss it: whoever needs to see a new serial polls.
 */

/**
 * Lists until `seen` holds or `confirmAttempts` lists were made, `confirmDelayMs` apart.
 * Returns the last list and whether `seen` held.
 */
export const pollList = async (
  run: Run,
  user: UserSettings,
  seen: (listed: readonly AtlasCertificate[]) => boolean,
): Promise<{ listed: AtlasCertificate[]; seen: boolean }> => {
  const { confirmAttempts, confirmDelayMs } = run.tuning;
  for (let attempt = 1; ; attempt++) {
    const listed = await run.ctx.atlas.listCertificates(user.projectId, user.username);
    if (seen(listed)) return { listed, seen: true };
    if (attempt >= confirmAttempts) return { listed, seen: false };
    await run.ctx.clock.sleep(confirmDelayMs);
  }
};

/** Certificates Atlas lists that are not in `seen`: minted since, keys not with us. */
export const notIn = (
  listed: readonly AtlasCertificate[],
  seen: ReadonlySet<string>,
): AtlasCertificate[] => listed.filter((c) => !seen.has(c.serialNumber));
