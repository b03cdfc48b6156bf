import { type CertificateDates, HOUR_MS } from '../../../../functions/domain/renewal.js';
import type { CheckInput } from '../../../../functions/domain/rotation/policies/refusals.js';
import type { CurrentValue, SecretState } from '../../../../functions/domain/stored-value.js';

/**
 * One user's facts as the policy chains see them, shared by the families' tables: a secret that
 * holds our certificate with 70 days left, and its variants (deleted, foreign, pending).
 */
export const at = (iso: string) => new Date(iso);
export const user = {
  projectId: '5e2211c17a3e5a48f5497de3',
  username: 'app1',
  secretName: 'atlas-x509/5e2211c17a3e5a48f5497de3/app1',
  renewBeforeDays: undefined,
};
// A 3-month Atlas certificate; on `now` it has 70 days left and is not due.
export const held: CertificateDates = {
  serialNumber: '100',
  notBefore: at('2026-08-10T02:06:35Z'),
  notAfter: at('2026-11-10T03:06:35Z'),
};
export const now = at('2026-09-01T00:00:00Z');
export const ours: CurrentValue = {
  kind: 'ours',
  value: { ...user, certificate: 'C', privateKey: 'K', pem: 'CK', ...held },
};
export const foreign: CurrentValue = { kind: 'foreign', problem: 'the current value is not JSON' };
export const deletedDate = at('2026-08-30T00:00:00Z');
export const state = (over: Partial<SecretState> = {}): SecretState => ({
  name: user.secretName,
  arn: `arn:aws:secretsmanager:us-east-1:1:secret:${user.secretName}-AbCdEf`,
  createdDate: at('2026-08-10T02:00:00Z'),
  deletedDate: undefined,
  versions: new Map([['v-current', ['AWSCURRENT']]]),
  currentVersionId: 'v-current',
  pendingVersionId: undefined,
  current: ours,
  notAfterHint: held.notAfter,
  ...over,
});
export const gone = state({ deletedDate });
export const alien = state({ current: foreign });
export const pending = state({ pendingVersionId: 'v-pending' });
export const input = (over: Partial<CheckInput> = {}): CheckInput => ({
  user,
  state: state(),
  held,
  listed: [{ ...held, createdAt: held.notBefore }],
  forced: false,
  now,
  listLagGraceMs: HOUR_MS,
  ...over,
});
export const DELETED = 'SECRET_SCHEDULED_FOR_DELETION';
export const FOREIGN = 'SECRET_FOREIGN_VALUE';
export const UNKNOWN = 'HELD_CERTIFICATE_UNKNOWN_TO_ATLAS';
