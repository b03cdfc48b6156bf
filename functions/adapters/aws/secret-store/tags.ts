/**
 * The tags the rotator puts on a certificate secret. Their keys are spelled once, in
 * `domain/names.ts`, for the adapter, the IAM conditions (`infra/permissions.ts`) and the tests.
 */
export {
  MANAGED_BY_TAG,
  MANAGED_BY_VALUE,
  NOT_AFTER_TAG,
  ORPHANS_TAG,
  OWN_ACCESS_TAG,
  POLICY_TAG,
  PROJECT_ID_TAG,
  REPLICAS_TAG,
  REQUESTS_TAG,
  USERNAME_TAG,
} from '../../../domain/names.js';

// Tag values allow letters, digits, spaces and _.:/=+-@ only.
export const tagValue = (value: string): string =>
  value.replace(/[^\p{L}\p{N}\s_.:/=+\-@]/gu, '-').slice(0, 256);
