import { describe, expect, it } from 'vitest';
import {
  type CertificateDates,
  DAY_MS,
  findOrphans,
  freshnessProblem,
  HOUR_MS,
  heldButUnlisted,
  isCritical,
  recentOrphans,
  renewalTime,
  spreadFraction,
  windowOpensAt,
} from '../../functions/domain/renewal.js';
import { decide } from '../../functions/domain/rotation/policies/renewal.js';

const at = (iso: string) => new Date(iso);
const cert = (notBefore: string, notAfter: string, serialNumber = '1'): CertificateDates => ({
  serialNumber,
  notBefore: at(notBefore),
  notAfter: at(notAfter),
});
// A 3-month Atlas certificate: 92 days, so a third is 30.67 days.
const threeMonths = cert('2026-08-10T02:06:35Z', '2026-11-10T03:06:35Z');
const thirds = { renewBeforeDays: undefined };

describe('plan: renewal window', () => {
  it('opens when a third of the actual lifetime remains, by default', () => {
    const lifetime = threeMonths.notAfter.getTime() - threeMonths.notBefore.getTime();
    expect(windowOpensAt(threeMonths, thirds).getTime()).toBe(
      threeMonths.notAfter.getTime() - Math.floor(lifetime / 3),
    );
  });

  it('opens renewBeforeDays before expiry when set', () => {
    expect(windowOpensAt(threeMonths, { renewBeforeDays: 10 })).toEqual(at('2026-10-31T03:06:35Z'));
  });

  it('spreads users deterministically inside the first quarter of the window', () => {
    const opens = windowOpensAt(threeMonths, thirds).getTime();
    const window = threeMonths.notAfter.getTime() - opens;
    const times = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((u) =>
      renewalTime(threeMonths, thirds, u).getTime(),
    );
    for (const t of times) {
      expect(t).toBeGreaterThanOrEqual(opens);
      expect(t).toBeLessThan(opens + Math.min(window / 4, 7 * DAY_MS));
    }
    expect(new Set(times).size).toBe(times.length);
    expect(renewalTime(threeMonths, thirds, 'a')).toEqual(renewalTime(threeMonths, thirds, 'a'));
  });

  it('caps the spread at seven days for long windows', () => {
    const twoYears = cert('2026-01-01T00:00:00Z', '2028-01-01T00:00:00Z');
    const opens = windowOpensAt(twoYears, thirds).getTime();
    for (const u of ['x', 'y', 'z']) {
      expect(renewalTime(twoYears, thirds, u).getTime() - opens).toBeLessThan(7 * DAY_MS);
    }
  });

  it('maps keys to fractions in [0, 1)', () => {
    for (const k of ['', 'p/u', 'ünïcödé', 'x'.repeat(1000)]) {
      const f = spreadFraction(k);
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
    }
  });
});

describe('plan: decide', () => {
  const key = '5e2211c17a3e5a48f5497de3/app1';

  it('is due when nothing is stored', () => {
    expect(
      decide({ held: undefined, policy: thirds, key, now: at('2026-09-01T00:00:00Z') }),
    ).toEqual({
      due: true,
      reason: 'no certificate stored yet',
    });
  });

  it('is not due before the spread renewal time, and says when', () => {
    const now = at('2026-09-01T00:00:00Z');
    const d = decide({ held: threeMonths, policy: thirds, key, now });
    expect(d.due).toBe(false);
    expect(d.reason).toMatch(/^not due: 70 days left, renews from 2026-10-\d\d$/);
  });

  it('is due from the renewal time on, and when expired', () => {
    const renewAt = renewalTime(threeMonths, thirds, key);
    expect(
      decide({ held: threeMonths, policy: thirds, key, now: new Date(renewAt.getTime() - 1) }).due,
    ).toBe(false);
    expect(decide({ held: threeMonths, policy: thirds, key, now: renewAt }).due).toBe(true);
    const expired = decide({
      held: threeMonths,
      policy: thirds,
      key,
      now: at('2026-12-01T00:00:00Z'),
    });
    expect(expired).toEqual({
      due: true,
      reason: 'stored certificate expired on 2026-11-10T03:06:35.000Z',
    });
  });

  it('is always due when forced', () => {
    expect(
      decide({
        held: threeMonths,
        policy: thirds,
        key,
        now: at('2026-08-11T00:00:00Z'),
        force: true,
      }).due,
    ).toBe(true);
  });
});

describe('plan: freshness of a new certificate', () => {
  it('accepts a fresh certificate', () => {
    expect(freshnessProblem(threeMonths, thirds, at('2026-08-10T03:07:00Z'))).toBeUndefined();
  });

  it('rejects one already inside its renewal window, expired, or not yet valid', () => {
    expect(
      freshnessProblem(threeMonths, { renewBeforeDays: 80 }, at('2026-08-25T00:00:00Z')),
    ).toMatch(/inside its renewal window/);
    expect(freshnessProblem(threeMonths, thirds, at('2026-11-11T00:00:00Z'))).toMatch(/expired/);
    expect(freshnessProblem(threeMonths, thirds, at('2026-08-09T00:00:00Z'))).toMatch(
      /not valid before/,
    );
  });
});

describe('plan: orphans', () => {
  const now = at('2026-09-01T00:00:00Z');
  const listed = (serialNumber: string, createdAt: string, notAfter = '2026-12-01T00:00:00Z') => ({
    serialNumber,
    createdAt: at(createdAt),
    notAfter: at(notAfter),
  });
  const held = cert('2026-08-01T00:00:00Z', '2026-11-01T00:00:00Z', '100');

  it('counts unheld certificates newer than the held one, minted while managed', () => {
    const orphans = findOrphans({
      listed: [
        listed('100', '2026-08-01T00:00:00Z'), // held
        listed('90', '2026-07-01T00:00:00Z'), // older than held
        listed('110', '2026-08-20T00:00:00Z'), // orphan
        listed('120', '2026-08-21T00:00:00Z'), // held by a pending version
      ],
      isHeld: (s) => s === '100' || s === '120',
      held,
      managedSince: at('2026-06-01T00:00:00Z'),
      now,
    });
    expect(orphans.map((o) => o.serialNumber)).toEqual(['110']);
  });

  it('does not count certificates from before the first managed secret', () => {
    const orphans = findOrphans({
      listed: [listed('5', '2026-08-30T00:00:00Z'), listed('6', '2026-08-31T23:30:00Z')],
      isHeld: () => false,
      held: undefined,
      // created 30 minutes after cert 6's real issue time (createdAt + 1 h backdate)
      managedSince: new Date(at('2026-08-31T23:30:00Z').getTime() + HOUR_MS - 1),
      now,
    });
    expect(orphans.map((o) => o.serialNumber)).toEqual(['6']);
  });

  it('limits recent orphans to the window', () => {
    const orphans = [listed('1', '2026-08-20T00:00:00Z'), listed('2', '2026-08-30T00:00:00Z')];
    expect(recentOrphans(orphans, now, 7).map((o) => o.serialNumber)).toEqual(['2']);
  });

  it('flags a held certificate Atlas does not list, after the lag grace', () => {
    const base = { held, now, graceMs: HOUR_MS };
    expect(heldButUnlisted({ ...base, listed: [listed('100', '2026-08-01T00:00:00Z')] })).toBe(
      false,
    );
    expect(heldButUnlisted({ ...base, listed: [] })).toBe(true);
    expect(heldButUnlisted({ ...base, listed: [], now: at('2026-08-01T01:30:00Z') })).toBe(false);
    expect(heldButUnlisted({ ...base, listed: [], now: at('2026-11-02T00:00:00Z') })).toBe(false);
  });

  it('calls a missing certificate or one within the floor critical', () => {
    expect(isCritical(undefined, now, 7)).toBe(true);
    expect(isCritical(held, at('2026-10-26T00:00:00Z'), 7)).toBe(true);
    expect(isCritical(held, at('2026-10-20T00:00:00Z'), 7)).toBe(false);
  });
});
