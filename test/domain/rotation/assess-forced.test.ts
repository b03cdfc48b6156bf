import { describe, expect, it } from 'vitest';
import { APP1 } from '../../support/fakes/fixtures.js';
import { datesFor } from '../../support/fakes/pki.js';
import { fakeWorlds, holding, rotate, rowOf } from '../../support/world.js';

/** The hard-timing rules of the engine, on the fake clock: leases, the mint cap, list lag. */

const app1 = APP1;
const world = fakeWorlds();

describe('engine: a forced request is served once', () => {
  const forced = (requestedAt: Date) => ({ force: true, only: [app1], requestedAt });

  it('mints for a certificate stored before the request, then a retry of it is a no-op', async () => {
    const ctx = world();
    const held = await holding(ctx, app1, datesFor(ctx.clock, 60));
    const request = forced(ctx.clock.now());
    ctx.clock.advance(5_000);
    const first = rowOf(await rotate(ctx, request), 'app1');
    expect(first.action).toBe('rotated');
    expect(first.serialNumber).not.toBe(held.serialNumber);

    ctx.clock.advance(60_000); // the AWS CLI's read timeout, then its retry
    const retry = rowOf(await rotate(ctx, request), 'app1');
    expect(retry).toMatchObject({ action: 'skipped', serialNumber: first.serialNumber });
    expect(retry.reason).toMatch(
      /^forced request already served: the current certificate was stored /,
    );
    expect(ctx.atlas.calls.count('createCertificate')).toBe(1);
  });

  it('counts a store within the clock-skew allowance before the request as serving it', async () => {
    const ctx = world();
    await holding(ctx, app1, datesFor(ctx.clock, 60));
    await rotate(ctx, forced(ctx.clock.now()));
    // A second request 50 s after that store: inside the 60 s allowance, so not minted again.
    ctx.clock.advance(50_000);
    expect(rowOf(await rotate(ctx, forced(ctx.clock.now())), 'app1').action).toBe('skipped');
    // 61 s after it: a new intent, minted.
    ctx.clock.advance(11_000);
    expect(rowOf(await rotate(ctx, forced(ctx.clock.now())), 'app1').action).toBe('rotated');
    expect(ctx.atlas.calls.count('createCertificate')).toBe(2);
  });

  it('without requestedAt (the engine called directly) forcing works as before', async () => {
    const ctx = world();
    await holding(ctx, app1, datesFor(ctx.clock, 60));
    await rotate(ctx, { force: true, only: [app1] });
    await rotate(ctx, { force: true, only: [app1] });
    expect(ctx.atlas.calls.count('createCertificate')).toBe(2);
  });
});
