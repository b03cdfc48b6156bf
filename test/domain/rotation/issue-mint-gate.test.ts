import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../../functions/domain/renewal.js';
import { APP1, P1 } from '../../support/fakes/fixtures.js';
import { datesFor } from '../../support/fakes/pki.js';
import { fakeWorlds, holding, rotate, rowOf, userOf } from '../../support/world.js';

/** The hard-timing rules of the engine, on the fake clock: leases, the mint cap, list lag. */

const app1 = APP1;
const world = fakeWorlds();

describe('engine: the mint cap stops even a critical user', () => {
  it('refuses MINT_CAP before any create once four certificates were created this week', async () => {
    const ctx = world();
    // Two days left: critical. Four recent certificates whose keys are lost.
    await holding(ctx, app1, datesFor(ctx.clock, 2));
    for (let i = 0; i < 4; i++) await ctx.atlas.seed(P1, 'app1', datesFor(ctx.clock, 90 - i));
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({ action: 'failed', errorCode: 'MINT_CAP' });
    expect(row.orphans).toHaveLength(4);
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
  });

  it('a deterministic rejection costs at most the cap over many runs, then stops', async () => {
    const ctx = world();
    await holding(ctx, app1, datesFor(ctx.clock, 3));
    let runs = 0;
    for (; runs < 10; runs++) {
      ctx.atlas.nextCreate({ kind: 'garbage' });
      await rotate(ctx);
      ctx.clock.advance(DAY_MS / 24);
    }
    expect(ctx.atlas.created).toHaveLength(4);
    const last = rowOf(await rotate(ctx), 'app1');
    expect(last.errorCode).toBe('MINT_CAP');
    expect(ctx.store.serialAt(userOf(ctx, P1, 'app1').secretName)).toBeDefined();
  });
});

describe('engine: an ambiguous create polls the lagging list before creating again', () => {
  it('counts a certificate the list shows only on its second read, and mints no second one', async () => {
    const ctx = world();
    await holding(ctx, app1, datesFor(ctx.clock, 10));
    // The minted certificate stays out of the next list call: Atlas's list lags a create.
    ctx.atlas.nextCreate({ kind: 'unknown', minted: true, hiddenFor: 1 });
    const row = rowOf(await rotate(ctx), 'app1');
    const [lost] = ctx.atlas.created;
    expect(row.orphans).toContain(lost?.serialNumber);
    // Only one more create, after the poll found the lost one; the retry's mint is stored.
    expect(ctx.atlas.calls.count('createCertificate')).toBe(2);
    expect(row.action).toBe('rotated');
  });
});
