/**
 * The tags the rotator puts on a certificate secret: the one place their keys are spelled, for
 * the adapter, IAM conditions and the tests alike.
 */
import { MANAGED_BY_TAG, MANAGED_BY_VALUE } from '../../../domain/names.js';

export { MANAGED_BY_TAG, MANAGED_BY_VALUE };

/** The held certificate's expiry, tagged so the next run can order users from ListSecrets. */
export const NOT_AFTER_TAG = 'atlas-x509-rotator:not-after';

/**
 * When the rotator last promoted a version (written with the expiry tag): Secrets Manager's
 * `LastAccessedDate` on that day may be the rotator's own read, not a consumer's.
 */
export const OWN_ACCESS_TAG = 'atlas-x509-rotator:own-access';

/** Orphan serials already reported, so a run counts only the orphans it is first to see. */
export const ORPHANS_TAG = 'atlas-x509-rotator:orphans';

/** The hash of the consumers' resource policy last put (`domain/consumers.ts` `wantedPolicy`). */
export const POLICY_TAG = 'atlas-x509-rotator:policy';

/** The Regions the secret is replicated to, and the version last seen in sync (`ReplicaTag`). */
export const REPLICAS_TAG = 'atlas-x509-rotator:replicas';

/** The Atlas project and the username a secret was created for (set once, at creation). */
export const PROJECT_ID_TAG = 'atlas-x509-rotator:project-id';
export const USERNAME_TAG = 'atlas-x509-rotator:username';

// Tag values allow letters, digits, spaces and _.:/=+-@ only.
export const tagValue = (value: string): string =>
  value.replace(/[^\p{L}\p{N}\s_.:/=+\-@]/gu, '-').slice(0, 256);
