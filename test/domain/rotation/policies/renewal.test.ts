import { describe, expect, it } from 'vitest';
import {
  type CertificateDates,
  DAY_MS,
  renewalTime,
  windowOpensAt,
} from '../../../../functions/domain/renewal.js';
import {
  firstVerdict,
  type Verdict,
} from '../../../../functions/domain/rotation/policies/chain.js';
import {
  type CheckInput,
  REFUSALS,
} from '../../../../functions/domain/rotation/policies/refusals.js';
import {
  CertificateExpired,
  type Decision,
  decide,
  ForcedByOperator,
  NoCertificateStored,
  RENEWAL_CHECKS,
  type RenewalInput,
  RenewalWindow,
  renewalKey,
  toDecision,
  USER_CHECKS,
} from '../../../../functions/domain/rotation/policies/renewal.js';
import {
  alien,
  at,
  DELETED,
  deletedDate,
  FOREIGN,
  foreign,
  gone,
  held,
  input,
  now,
  pending,
  state,
  UNKNOWN,
  user,
} from './check-input.js';

const ref = `${user.projectId}:${user.username}`;
const key = `${user.projectId}/${user.username}`;
const expired = 'stored certificate expired on 2026-11-10T03:06:35.000Z';
const day = (d: Date): string => d.toISOString().slice(0, 10);
const reasonOf = (v: Verdict | undefined) => (v && 'reason' in v ? v.reason : undefined);
/** Puts each row's expectation into its title. */
const titled = <O, E>(rows: [string, O, E][]): [string, O, E][] =>
  rows.map(([label, over, want]) => [`${label} → ${String(want ?? 'passes')}`, over, want]);

describe('policies: renewal checks', () => {
  const renewal = (over: Partial<RenewalInput> = {}): RenewalInput => ({
    held,
    forced: false,
    now,
    policy: { renewBeforeDays: undefined },
    key,
    ...over,
  });
  const rows = {
    ForcedByOperator: [
      ['forced', { forced: true }, 'forced by the operator'],
      ['not forced', {}, undefined],
    ],
    NoCertificateStored: [
      ['nothing held', { held: undefined }, 'no certificate stored yet'],
      ['held', {}, undefined],
    ],
    CertificateExpired: [
      ['at notAfter', { now: held.notAfter }, expired],
      ['a millisecond before', { now: new Date(held.notAfter.getTime() - 1) }, undefined],
      ['nothing held', { held: undefined }, undefined],
    ],
    RenewalWindow: [['nothing held', { held: undefined }, undefined]],
  } satisfies Record<string, [string, Partial<RenewalInput>, string | undefined][]>;
  const checks = [ForcedByOperator, NoCertificateStored, CertificateExpired, RenewalWindow];
  describe.each(checks)('$name', (check) => {
    const cases = rows[check.name as keyof typeof rows];
    it.each(titled<Partial<RenewalInput>, string | undefined>(cases))('%s', (_, over, want) => {
      expect(check.evaluate(renewal(over))).toEqual(want && { kind: 'due', reason: want });
    });
  });

  // renewAt is computed with the policy: a check that ignored it would be off by weeks.
  describe.each([{ renewBeforeDays: undefined }, { renewBeforeDays: 10 }])(
    'RenewalWindow, %o',
    (policy) => {
      const renewAt = renewalTime(held, policy, key);
      const opened = day(windowOpensAt(held, policy));
      it.each<[string, string, number]>([
        ['a millisecond before', 'not-due', -1],
        ['at', 'due', 0],
        ['a day after', 'due', DAY_MS],
      ])('%s the spread renewal time → %s', (_, kind, offset) => {
        const v = RenewalWindow.evaluate(
          renewal({ policy, now: new Date(renewAt.getTime() + offset) }),
        );
        const not = `^not due: [\\d.]+ days left, renews from ${day(renewAt)}$`;
        const due = `^[\\d.]+ days left; renewal window opened ${opened}$`;
        expect(v).toEqual(
          kind === 'due'
            ? { kind, reason: expect.stringMatching(new RegExp(due)) }
            : { kind, reason: expect.stringMatching(new RegExp(not)), renewAt },
        );
      });
    },
  );

  it.each<[string, number, RegExp]>([
    ['rounds ten days or more', 70 * DAY_MS, /^not due: 70 days left,/],
    ['rounds exactly ten days', 10 * DAY_MS, /^10 days left;/],
    ['keeps a decimal under ten days', 5.5 * DAY_MS, /^5\.5 days left;/],
  ])('RenewalWindow %s', (_, left, expected) => {
    const v = RenewalWindow.evaluate(renewal({ now: new Date(held.notAfter.getTime() - left) }));
    expect(reasonOf(v)).toMatch(expected);
  });
});

describe('policies: the chain', () => {
  const everything = state({ deletedDate, current: foreign, pendingVersionId: 'v-pending' });
  const alienPending = state({ current: foreign, pendingVersionId: 'v-pending' });
  const summary = (v: Verdict | Decision | undefined) => {
    if (v && 'due' in v) return v.due ? `due: ${v.reason}` : 'not due';
    return v?.kind === 'refuse' ? v.code : v?.kind === 'due' ? `due: ${v.reason}` : 'not due';
  };
  // The whole chain for one user, as the assessment runs it.
  const evaluateUser = (i: CheckInput) =>
    firstVerdict(USER_CHECKS, { ...i, policy: i.user, key: renewalKey(i.user) });
  const decideFor = (u: CheckInput['user'], h: CertificateDates, force: boolean, at: Date) =>
    decide({ held: h, policy: u, key: renewalKey(u), now: at, force });
  const RESUMES = 'due: an interrupted rotation left a pending version';
  const FORCED = 'due: forced by the operator';
  const NONE = 'due: no certificate stored yet';

  it.each<[string, Partial<CheckInput>, string]>([
    ['deletion beats foreign', { state: everything, listed: [] }, DELETED],
    ['deletion is not forced away', { state: everything, listed: [], forced: true }, DELETED],
    ['foreign beats unknown-to-Atlas', { state: alienPending, listed: [] }, FOREIGN],
    ['unknown-to-Atlas beats pending', { state: pending, listed: [] }, UNKNOWN],
    ['pending beats renewal', { state: pending }, RESUMES],
    ['pending beats force', { state: pending, forced: true }, RESUMES],
    ['force passes foreign and unknown', { state: alien, listed: [], forced: true }, FORCED],
    ['renewal decides the rest', {}, 'not due'],
    ['nothing stored', { state: undefined, held: undefined, listed: [] }, NONE],
  ])('evaluateUser: %s', (_, over, want) => {
    expect(summary(evaluateUser(input(over)))).toBe(want);
  });

  const fix = `--force --only ${ref}`;
  it.each<{ code: string; over: Partial<CheckInput>; message: string; remedies: string[] }>([
    {
      code: DELETED,
      over: { state: gone },
      message: `secret ${user.secretName} is scheduled for deletion (2026-08-30T00:00:00.000Z)`,
      remedies: [`aws secretsmanager restore-secret --secret-id ${user.secretName}`],
    },
    {
      code: FOREIGN,
      over: { state: alien },
      message: `secret ${user.secretName} is not ours: the current value is not JSON`,
      remedies: [fix],
    },
    {
      code: UNKNOWN,
      over: { listed: [] },
      message: 'Atlas does not list the stored certificate 100 although it has not expired',
      remedies: [`Check that ${user.secretName} belongs to ${ref}`, fix],
    },
  ])(
    'evaluateUser refuses with $code, naming the secret and the fix',
    ({ code, over, message, remedies }) => {
      const v = evaluateUser(input(over));
      expect(v).toEqual({ kind: 'refuse', code, message, remedy: expect.any(String) });
      if (v?.kind !== 'refuse') throw new Error('expected a refusal');
      for (const r of remedies) expect(v.remedy).toContain(r);
      // Deletion cannot be forced away, so its remedy must not offer --force.
      expect(v.remedy.includes(fix)).toBe(code !== DELETED);
    },
  );

  it('evaluateUser gives the decision of decideFor when nothing refuses', () => {
    const v = evaluateUser(input());
    if (v?.kind === 'refuse') throw new Error('expected a decision');
    expect(toDecision(v)).toEqual(decideFor(user, held, false, now));
    expect(evaluateUser(input())?.kind).not.toBe('refuse');
  });

  const late = at('2026-10-25T00:00:00Z'); // thirds: due; renewBeforeDays 10: not yet
  it.each<[string, { held?: CertificateDates; now?: Date; force?: boolean }, string]>([
    ['nothing stored', { held: undefined }, NONE],
    ['not due', {}, 'not due'],
    ['force: false', { force: false }, 'not due'],
    ['force: true', { force: true }, FORCED],
    ['expired beats the window', { now: at('2026-12-01T00:00:00Z') }, `due: ${expired}`],
    ['in the window', { now: late }, 'due: 16 days left; renewal window opened 2026-10-10'],
  ])('decide: %s', (_, over, want) => {
    const policy = { renewBeforeDays: undefined };
    expect(summary(decide({ held, policy, key, now, ...over }))).toBe(want);
  });

  it('decideFor uses the user’s renewBeforeDays and spreads by projectId/username', () => {
    const tenDays = { ...user, renewBeforeDays: 10 };
    expect(decideFor(user, held, false, late).due).toBe(true);
    expect(decideFor(tenDays, held, false, late)).toEqual({
      due: false,
      reason: expect.stringMatching(/^not due: 16 days left/),
      renewAt: renewalTime(held, tenDays, key),
    });
    expect(decideFor({ ...tenDays, username: 'app2' }, held, false, late)).toMatchObject({
      renewAt: renewalTime(held, tenDays, `${user.projectId}/app2`),
    });
    expect(summary(decideFor(user, held, true, now))).toBe(FORCED);
  });

  it('lists the refusals and the renewal checks in their documented order', () => {
    expect(REFUSALS.map((c) => c.name)).toEqual([
      'SecretScheduledForDeletion',
      'SecretRotationEnabled',
      'SecretHoldsForeignValue',
      'HeldCertificateUnknownToAtlas',
    ]);
  });

  it('refuses a secret with Secrets Manager rotation on, before the foreign-value check', () => {
    const verdict = evaluateUser(
      input({ state: state({ rotationEnabled: true, current: foreign }) }),
    );
    expect(verdict).toMatchObject({
      code: 'SECRET_ROTATION_ENABLED',
      message: `secret ${user.secretName} has Secrets Manager rotation enabled: another rotator owns its versions`,
      remedy: expect.stringContaining(`cancel-rotate-secret --secret-id ${user.secretName}`),
    });
    expect(evaluateUser(input({ state: state({ rotationEnabled: false }) }))).toMatchObject({
      kind: 'not-due',
    });
    expect(RENEWAL_CHECKS.map((c) => c.name)).toEqual([
      'ForcedByOperator',
      'NoCertificateStored',
      'CertificateExpired',
      'RenewalWindow',
    ]);
  });
});
