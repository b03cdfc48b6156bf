import { describe, expect, it } from 'vitest';
import { OWN_ACCESS_TAG } from '../../../../functions/adapters/aws/secret-store/tags.js';
import type { RawConfig } from '../../../../functions/domain/config/schema.js';
import { DAY_MS } from '../../../../functions/domain/renewal.js';
import {
  readHidesNothing,
  staleReaders,
} from '../../../../functions/domain/rotation/upkeep/stale-readers.js';
import { type SecretState, versionIdFor } from '../../../../functions/domain/stored-value.js';
import { P1 } from '../../../support/fakes/fixtures.js';
import { datesFor } from '../../../support/fakes/pki.js';
import { storeError } from '../../../support/fakes/secret-store.js';
import { fakeWorlds, holding, rotate, rowOf } from '../../../support/world.js';

/**
 * Applications that have not reloaded: a secret nobody read after the day of its promotion,
 * while the previous certificate still has days left, is reported; one re-read is not. The
 * rotator's own reads on the promotion day never count as a consumer's.
 */

const newWorld = fakeWorlds();
const users = (...names: string[]): RawConfig => ({ projects: [{ projectId: P1, users: names }] });
const day = (iso: string) => new Date(`${iso}T00:00:00Z`);

describe('staleReaders', () => {
  const now = new Date('2026-03-20T06:00:00Z');
  const listed = [
    {
      serialNumber: '11',
      createdAt: day('2025-12-20'),
      notAfter: new Date('2026-03-30T00:00:00Z'),
    },
    {
      serialNumber: '12',
      createdAt: day('2026-03-01'),
      notAfter: new Date('2026-06-01T00:00:00Z'),
    },
  ];
  const state = (over: Partial<SecretState> = {}): SecretState => ({
    name: 's',
    arn: 'arn:s',
    createdDate: day('2025-01-01'),
    deletedDate: undefined,
    versions: new Map([
      [versionIdFor('11'), ['AWSPREVIOUS']],
      [versionIdFor('12'), ['AWSCURRENT']],
    ]),
    currentVersionId: versionIdFor('12'),
    pendingVersionId: undefined,
    current: undefined,
    notAfterHint: undefined,
    ownAccess: new Date('2026-03-02T04:00:00Z'),
    ...over,
  });
  const check = (s: SecretState, warningDays = 14) =>
    staleReaders({ state: s, listed, now, warningDays });

  it('reports a secret last read on its promotion day, the previous certificate within the window', () => {
    expect(check(state({ lastAccessedDate: day('2026-03-02') }))).toEqual({
      previousSerial: '11',
      previousNotAfter: listed[0]?.notAfter,
      promotedDay: day('2026-03-02'),
      lastAccessedDate: day('2026-03-02'),
    });
    expect(check(state())).toMatchObject({ lastAccessedDate: undefined });
  });

  it('does not report one read on a later day, nor before the window, nor without a previous version', () => {
    expect(check(state({ lastAccessedDate: day('2026-03-03') }))).toBeUndefined();
    expect(check(state({ lastAccessedDate: day('2026-03-02') }), 9)).toBeUndefined();
    expect(
      check(state({ versions: new Map([[versionIdFor('12'), ['AWSCURRENT']]]) })),
    ).toBeUndefined();
  });

  it('does not report once the previous certificate expired or Atlas no longer lists it', () => {
    const late = new Date('2026-03-30T00:00:01Z');
    expect(staleReaders({ state: state(), listed, now: late, warningDays: 14 })).toBeUndefined();
    expect(
      staleReaders({ state: state(), listed: listed.slice(1), now, warningDays: 14 }),
    ).toBeUndefined();
  });

  it('without the own-access tag, counts from the day Atlas created the current certificate', () => {
    const untagged = state({ ownAccess: undefined, lastAccessedDate: day('2026-03-01') });
    expect(check(untagged)?.promotedDay).toEqual(day('2026-03-01'));
    expect(check({ ...untagged, lastAccessedDate: day('2026-03-02') })).toBeUndefined();
  });
});

describe('engine: consumers that have not reloaded', () => {
  /** A user rotated now (its old certificate 20 days from expiry), then `later` days on. */
  const rotatedThenLater = async (later: number) => {
    const ctx = newWorld({ config: users('app1') });
    await holding(ctx, { projectId: P1, username: 'app1' }, datesFor(ctx.clock, 20));
    const first = await rotate(ctx);
    expect(rowOf(first, 'app1').action).toBe('rotated');
    const secret = [...ctx.store.secrets.values()][0];
    if (!secret) throw new Error('no secret');
    // The rotator read the secret around the promotion: that day is its own.
    expect(secret.lastAccessedDate).toBeDefined();
    ctx.clock.advance(later * DAY_MS);
    return { ctx, secret };
  };

  it('reports and counts a secret nobody read since its promotion, days before the old certificate expires', async () => {
    const { ctx } = await rotatedThenLater(10);
    const report = await rotate(ctx);
    const row = rowOf(report, 'app1');
    expect(row.action).toBe('skipped');
    expect(row.consumers).toBe('stale');
    expect(row.reason).toMatch(/consumers stale: .* expires .*, in 10 days/);
    // Told from the index and Atlas's list: no value was read, so no access of its own.
    expect(ctx.store.calls.count('read')).toBe(1);
  });

  it('does not report it before the window, nor once a consumer read it on a later day', async () => {
    const early = await rotatedThenLater(5);
    expect(rowOf(await rotate(early.ctx), 'app1').consumers).toBeUndefined();

    const { ctx } = await rotatedThenLater(10);
    ctx.store.access(
      [...ctx.store.secrets.keys()][0] ?? '',
      new Date(ctx.clock.now().getTime() - 8 * DAY_MS),
    );
    expect(rowOf(await rotate(ctx), 'app1').consumers).toBeUndefined();
  });

  it('a dry run reports it too', async () => {
    const { ctx } = await rotatedThenLater(10);
    expect(rowOf(await rotate(ctx, { dryRun: true }), 'app1').consumers).toBe('stale');
  });

  it("the rotator's read on a later day moves the own-access day, so it hides nothing", async () => {
    const { ctx, secret } = await rotatedThenLater(3);
    // Something unusual (here: no index) makes the run read the value three days on.
    ctx.store.calls.fail('index', storeError('SECRET_STORE_FAILED', 'ListSecrets'));
    expect(rowOf(await rotate(ctx), 'app1').consumers).toBeUndefined();
    const today = Math.floor(ctx.clock.now().getTime() / DAY_MS) * DAY_MS;
    expect(secret.lastAccessedDate?.getTime()).toBe(today);
    expect(Date.parse(secret.tags.get(OWN_ACCESS_TAG) ?? '')).toBe(ctx.clock.now().getTime());
    ctx.clock.advance(7 * DAY_MS);
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.consumers).toBe('stale');
    expect(row.reason).toContain('(last read ');
  });

  it('a consumer that read after the promotion is not discounted by a later read of the rotator', async () => {
    const { ctx, secret } = await rotatedThenLater(3);
    ctx.store.access(secret.name, new Date(ctx.clock.now().getTime() - DAY_MS));
    ctx.store.calls.fail('index', storeError('SECRET_STORE_FAILED', 'ListSecrets'));
    const tagged = secret.tags.get(OWN_ACCESS_TAG);
    await rotate(ctx);
    expect(secret.tags.get(OWN_ACCESS_TAG)).toBe(tagged);
    ctx.clock.advance(7 * DAY_MS);
    expect(rowOf(await rotate(ctx), 'app1').consumers).toBeUndefined();
  });
});

describe('readHidesNothing', () => {
  const base = {
    name: 's',
    arn: 's',
    createdDate: day('2026-01-01'),
    deletedDate: undefined,
    currentVersionId: 'c',
    pendingVersionId: undefined,
    current: undefined,
    notAfterHint: undefined,
  };
  it('is true without a previous version, or once read after the promotion day', () => {
    const withPrevious = new Map([
      ['c', ['AWSCURRENT']],
      ['p', ['AWSPREVIOUS']],
    ]);
    expect(readHidesNothing({ ...base, versions: new Map([['c', ['AWSCURRENT']]]) })).toBe(true);
    expect(readHidesNothing({ ...base, versions: withPrevious })).toBe(false);
    const promoted = {
      ...base,
      versions: withPrevious,
      ownAccess: new Date('2026-03-02T04:00:00Z'),
    };
    expect(readHidesNothing({ ...promoted, lastAccessedDate: day('2026-03-02') })).toBe(false);
    expect(readHidesNothing({ ...promoted, lastAccessedDate: day('2026-03-03') })).toBe(true);
  });
});
