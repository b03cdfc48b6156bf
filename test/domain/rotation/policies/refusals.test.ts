import { describe, expect, it } from 'vitest';
import { type CertificateDates, DAY_MS, HOUR_MS } from '../../../../functions/domain/renewal.js';
import type { Verdict } from '../../../../functions/domain/rotation/policies/chain.js';
import {
  type CheckInput,
  HeldCertificateUnknownToAtlas,
  SecretHoldsForeignValue,
  SecretScheduledForDeletion,
} from '../../../../functions/domain/rotation/policies/refusals.js';
import { PendingRotationLeft } from '../../../../functions/domain/rotation/policies/renewal.js';
import type { CurrentValue, SecretState } from '../../../../functions/domain/stored-value.js';

const at = (iso: string) => new Date(iso);
const user = {
  projectId: '5e2211c17a3e5a48f5497de3',
  username: 'app1',
  secretName: 'atlas-x509/5e2211c17a3e5a48f5497de3/app1',
  renewBeforeDays: undefined,
};
// A 3-month Atlas certificate; on `now` it has 70 days left and is not due.
const held: CertificateDates = {
  serialNumber: '100',
  notBefore: at('2026-08-10T02:06:35Z'),
  notAfter: at('2026-11-10T03:06:35Z'),
};
const now = at('2026-09-01T00:00:00Z');
const ours: CurrentValue = {
  kind: 'ours',
  value: { ...user, certificate: 'C', privateKey: 'K', pem: 'CK', ...held },
};
const foreign: CurrentValue = { kind: 'foreign', problem: 'the current value is not JSON' };
const deletedDate = at('2026-08-30T00:00:00Z');
const state = (over: Partial<SecretState> = {}): SecretState => ({
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
const gone = state({ deletedDate });
const alien = state({ current: foreign });
const pending = state({ pendingVersionId: 'v-pending' });
const input = (over: Partial<CheckInput> = {}): CheckInput => ({
  user,
  state: state(),
  held,
  listed: [{ ...held, createdAt: held.notBefore }],
  forced: false,
  now,
  listLagGraceMs: HOUR_MS,
  ...over,
});
const DELETED = 'SECRET_SCHEDULED_FOR_DELETION';
const FOREIGN = 'SECRET_FOREIGN_VALUE';
const UNKNOWN = 'HELD_CERTIFICATE_UNKNOWN_TO_ATLAS';
/** A verdict in one word: the refusal's code, or its kind; undefined when the check passes. */
const said = (v: Verdict | undefined) => (v?.kind === 'refuse' ? v.code : v?.kind);
/** Puts each row's expectation into its title. */
const titled = <O, E>(rows: [string, O, E][]): [string, O, E][] =>
  rows.map(([label, over, want]) => [`${label} → ${String(want ?? 'passes')}`, over, want]);

describe('policies: the checks before renewal', () => {
  const issued = held.notBefore.getTime() + HOUR_MS; // Atlas backdates notBefore by an hour
  const unlisted = { listed: [] };
  const other = { listed: [{ ...held, serialNumber: '9', createdAt: held.notBefore }] };
  const rows = {
    SecretScheduledForDeletion: [
      ['no secret', { state: undefined }, undefined],
      ['a live secret', {}, undefined],
      ['scheduled for deletion', { state: gone }, DELETED],
      ['scheduled for deletion, forced', { state: gone, forced: true }, DELETED],
    ],
    SecretHoldsForeignValue: [
      ['no secret', { state: undefined }, undefined],
      ['an empty secret', { state: state({ current: undefined }) }, undefined],
      ['our value', {}, undefined],
      ['a foreign value', { state: alien }, FOREIGN],
      ['a foreign value, forced', { state: alien, forced: true }, undefined],
    ],
    HeldCertificateUnknownToAtlas: [
      ['listed', {}, undefined],
      ['not listed', unlisted, UNKNOWN],
      ['only others listed', other, UNKNOWN],
      ['unlisted at the grace’s end', { ...unlisted, now: new Date(issued + HOUR_MS) }, undefined],
      ['unlisted past the grace', { ...unlisted, now: new Date(issued + HOUR_MS + 1) }, UNKNOWN],
      ['unlisted, longer grace', { ...unlisted, listLagGraceMs: 30 * DAY_MS }, undefined],
      ['unlisted, expired', { ...unlisted, now: held.notAfter }, undefined],
      ['unlisted, forced', { ...unlisted, forced: true }, undefined],
      ['nothing held', { ...unlisted, held: undefined }, undefined],
    ],
    PendingRotationLeft: [
      ['no secret', { state: undefined }, undefined],
      ['no pending version', {}, undefined],
      ['a pending version', { state: pending }, 'due'],
    ],
  } satisfies Record<string, [string, Partial<CheckInput>, string | undefined][]>;
  const checks = [
    SecretScheduledForDeletion,
    SecretHoldsForeignValue,
    HeldCertificateUnknownToAtlas,
    PendingRotationLeft,
  ];
  describe.each(checks)('$name', (check) => {
    const cases = rows[check.name as keyof typeof rows];
    it.each(titled<Partial<CheckInput>, string | undefined>(cases))('%s', (_, over, want) => {
      expect(said(check.evaluate(input(over)))).toBe(want);
    });
  });
});
