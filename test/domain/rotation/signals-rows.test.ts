import { describe, expect, it } from 'vitest';
import { RotatorError } from '../../../functions/domain/errors.js';
import { knownBefore } from '../../../functions/domain/rotation/ledger.js';
import type { Outcome } from '../../../functions/domain/rotation/outcomes.js';
import {
  orphansTagValue,
  parseOrphansTag,
  TAG_VALUE_MAX,
} from '../../../functions/domain/stored-value.js';
import {
  APP1,
  datesFor,
  fakeWorlds,
  holding,
  P1,
  pausedPace,
  rotate,
  rowOf,
  storeError,
  userOf,
} from '../../support/fakes.js';

/**
 * What rows tell signals: the expiry a deferred or failed row already knows (or that there is
 * no certificate), and which orphans no earlier run reported (the orphans tag).
 */

const world = fakeWorlds();
const paused = () => true;
const notFound = () =>
  new RotatorError('Atlas: no such user', { code: 'USERNAME_NOT_FOUND', remedy: 'check it' });

describe('rows: the expiry a deferred or failed user already has', () => {
  it('a deferred user carries its tagged expiry', async () => {
    const ctx = world({ paused });
    const held = await holding(ctx, APP1, datesFor(ctx.clock, 20));
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({ action: 'deferred', notAfter: held.notAfter.toISOString() });
    expect(row.certificate).toBeUndefined();
  });

  it('a deferred user without a secret, or with an empty one, is known to hold none', async () => {
    const ctx = world({
      paused,
      config: { projects: [{ projectId: P1, users: ['app1', 'app2'] }] },
    });
    ctx.store.seedEmpty(userOf(ctx, P1, 'app2').secretName);
    const report = await rotate(ctx);
    for (const name of ['app1', 'app2']) {
      expect(rowOf(report, name)).toMatchObject({
        action: 'deferred',
        notAfter: undefined,
        certificate: 'none',
      });
    }
  });

  it('a secret without the expiry tag leaves the expiry unknown, not none', async () => {
    const ctx = world({ paused });
    await holding(ctx, APP1, datesFor(ctx.clock, 20));
    ctx.store.secrets.get(userOf(ctx, P1, 'app1').secretName)?.tags.clear();
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({ action: 'deferred', notAfter: undefined });
    expect(row.certificate).toBeUndefined();
  });

  it('without the index nothing is known before reading: unknown, not none', async () => {
    const ctx = world({ paused });
    ctx.store.calls.fail('index', storeError('SECRET_ACCESS_DENIED', 'ListSecrets'));
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({ action: 'deferred', notAfter: undefined });
    expect(row.certificate).toBeUndefined();
  });

  it('a user failing before its certificate is read carries the tagged expiry', async () => {
    const ctx = world();
    const held = await holding(ctx, APP1, datesFor(ctx.clock, 40));
    ctx.atlas.calls.fail('listCertificates', notFound());
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({
      action: 'failed',
      errorCode: 'USERNAME_NOT_FOUND',
      serialNumber: undefined,
      notAfter: held.notAfter.toISOString(),
    });
  });

  it('without the index, a user read to have no secret and then failing holds none', async () => {
    const ctx = world();
    ctx.store.calls.fail('index', storeError('SECRET_ACCESS_DENIED', 'ListSecrets'));
    ctx.store.calls.fail('create', storeError('SECRET_ACCESS_DENIED', 'CreateSecret'));
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({ action: 'failed', certificate: 'none' });
  });

  it('leaves rows that are neither deferred nor failed alone', () => {
    const none = null;
    const skipped: Outcome = {
      secretArn: undefined,
      action: 'skipped',
      reason: 'disabled',
      serialNumber: undefined,
      notAfter: undefined,
      orphans: [],
    };
    expect(knownBefore(skipped, none)).toEqual({});
    expect(knownBefore({ ...skipped, action: 'failed' }, none)).toEqual({ certificate: 'none' });
    expect(knownBefore({ ...skipped, action: 'failed' }, undefined)).toEqual({});
  });
});

describe('rows: orphans first seen, across runs', () => {
  /** A healthy user (not due) with two orphans minted after its certificate. */
  const withOrphans = async () => {
    const ctx = world();
    await holding(ctx, APP1, datesFor(ctx.clock, 60));
    const lost = [
      await ctx.atlas.seed(P1, 'app1', datesFor(ctx.clock, 88)),
      await ctx.atlas.seed(P1, 'app1', datesFor(ctx.clock, 89)),
    ].map((c) => c.serialNumber);
    return { ctx, lost, name: userOf(ctx, P1, 'app1').secretName };
  };

  it('reports orphans as new once, records them on the secret, and writes nothing again', async () => {
    const { ctx, lost, name } = await withOrphans();
    const first = rowOf(await rotate(ctx), 'app1');
    expect(first).toMatchObject({ action: 'skipped' });
    expect([...first.orphans].sort()).toEqual([...lost].sort());
    expect([...(first.newOrphans ?? [])].sort()).toEqual([...lost].sort());
    expect(ctx.store.orphansTag(name)).toBe(orphansTagValue(lost));

    const second = rowOf(await rotate(ctx), 'app1');
    expect(second.orphans).toHaveLength(2);
    expect(second.newOrphans).toBeUndefined();
    expect(ctx.store.calls.count('tagOrphans')).toBe(1);

    // A third orphan is new on its own, and the tag then holds all three.
    const third = (await ctx.atlas.seed(P1, 'app1', datesFor(ctx.clock, 90))).serialNumber;
    const next = rowOf(await rotate(ctx), 'app1');
    expect(next.newOrphans).toEqual([third]);
    expect(parseOrphansTag(ctx.store.orphansTag(name))).toEqual(
      parseOrphansTag(orphansTagValue([...lost, third])),
    );
    expect(ctx.store.calls.count('tagOrphans')).toBe(2);
  });

  it('a dry run reports them as new and records nothing', async () => {
    const { ctx, name } = await withOrphans();
    const row = rowOf(await rotate(ctx, { dryRun: true }), 'app1');
    expect(row.newOrphans).toHaveLength(2);
    expect(ctx.store.orphansTag(name)).toBeUndefined();
    expect(ctx.store.calls.count('tagOrphans')).toBe(0);
  });

  it('a failed tag write leaves the row as it is, says so, and the next run counts them again', async () => {
    const { ctx } = await withOrphans();
    ctx.store.calls.fail('tagOrphans', storeError('SECRET_ACCESS_DENIED', 'TagResource'));
    expect(rowOf(await rotate(ctx), 'app1').newOrphans).toHaveLength(2);
    expect(ctx.log.messages('warn')).toContain(
      'could not record the orphans on the secret; the next run counts them again',
    );
    expect(rowOf(await rotate(ctx), 'app1').newOrphans).toHaveLength(2);
    expect(rowOf(await rotate(ctx), 'app1').newOrphans).toBeUndefined();
  });

  it('an orphan a lost create leaves on a new secret is new, and recorded there', async () => {
    const ctx = world();
    ctx.atlas.nextCreate({ kind: 'unknown', minted: true });
    const row = rowOf(await rotate(ctx), 'app1');
    const [orphan, kept] = ctx.atlas.created.map((c) => c.serialNumber);
    expect(row).toMatchObject({ action: 'rotated', serialNumber: kept, orphans: [orphan] });
    expect(row.newOrphans).toEqual([orphan]);
    expect(ctx.store.orphansTag(userOf(ctx, P1, 'app1').secretName)).toBe(orphan);
  });

  it('a deferred row, which lists nothing, keeps the recorded orphans', async () => {
    const { ctx, name } = await withOrphans();
    await rotate(ctx);
    const recorded = ctx.store.orphansTag(name);
    const row = rowOf(await rotate({ ...ctx, pace: pausedPace(paused) }), 'app1');
    expect(row).toMatchObject({ action: 'deferred', orphans: [] });
    expect(ctx.store.orphansTag(name)).toBe(recorded);
  });
});

describe('the orphans tag value', () => {
  const serial = (i: number) => `${9_000_000_000_000_000_000n + BigInt(i)}`;

  it('holds distinct serials in numeric order and reads back what it holds', () => {
    expect(orphansTagValue(['20', '3', '100', '3'])).toBe('3 20 100');
    expect(parseOrphansTag('3 20 100')).toEqual(['3', '20', '100']);
    expect(parseOrphansTag(undefined)).toEqual([]);
    expect(parseOrphansTag('')).toEqual([]);
    expect(parseOrphansTag('12 x 007 -4 5')).toEqual(['12', '5']);
  });

  it('keeps whole serials within the tag value limit', () => {
    const many = Array.from({ length: 20 }, (_, i) => serial(i));
    const value = orphansTagValue(many);
    expect(value.length).toBeLessThanOrEqual(TAG_VALUE_MAX);
    const kept = parseOrphansTag(value);
    expect(kept).toEqual(many.slice(0, kept.length));
    expect(kept.length).toBe(Math.floor((TAG_VALUE_MAX + 1) / (serial(0).length + 1)));
  });
});
