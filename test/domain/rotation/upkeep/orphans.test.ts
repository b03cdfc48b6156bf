import { describe, expect, it } from 'vitest';
import {
  orphansTagValue,
  parseOrphansTag,
  TAG_VALUE_MAX,
} from '../../../../functions/domain/stored-value.js';
import { APP1, P1 } from '../../../support/fakes/fixtures.js';
import { datesFor } from '../../../support/fakes/pki.js';
import { storeError } from '../../../support/fakes/secret-store.js';
import { fakeWorlds, holding, pausedPace, rotate, rowOf, userOf } from '../../../support/world.js';

/**
 * What rows tell signals: the expiry a deferred or failed row already knows (or that there is
 * no certificate), and which orphans no earlier run reported (the orphans tag).
 */

const world = fakeWorlds();
const paused = () => true;

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
