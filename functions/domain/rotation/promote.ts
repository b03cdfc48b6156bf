import type { ValidatedCertificate } from '../certificate.js';
import type { UserSettings } from '../config/types.js';
import type { SecretState } from '../stored-value.js';
import { pollList } from './listing.js';
import { type Failure, type FailureBasis, refused } from './outcomes.js';
import type { Run } from './run-state.js';

/**
 * Promote: a stored certificate becomes AWSCURRENT only once Atlas lists it (a certificate
 * Atlas does not know would fail every login). The first certificate of an empty secret is
 * current the moment it is stored. The renewal checks its login (`verify.ts`) between the two.
 */

/** Whether Atlas lists the certificate just stored, polled: the list lags a create. */
export const listedYet = async (
  run: Run,
  user: UserSettings,
  cert: ValidatedCertificate,
): Promise<boolean> => {
  const listed = await pollList(run, user, (now) =>
    now.some((c) => c.serialNumber === cert.serialNumber),
  );
  return listed.seen;
};

/** The failure of a certificate left AWSPENDING because Atlas does not list it yet. */
export const notListedYet = (cert: ValidatedCertificate, basis: FailureBasis): Failure =>
  refused(
    {
      code: 'NEW_CERTIFICATE_NOT_LISTED',
      message: `Atlas does not list the new certificate ${cert.serialNumber} yet; stored as AWSPENDING, not made current`,
      remedy:
        'The next run promotes it once Atlas lists it; if it never does, check the Atlas user.',
    },
    basis,
  );

/** Moves AWSCURRENT (and AWSPREVIOUS) to `versionId`. */
export const promote = (run: Run, state: SecretState, versionId: string): Promise<void> =>
  run.ctx.store.promote(state, versionId);
