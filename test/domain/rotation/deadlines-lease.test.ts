import { describe, expect, it } from 'vitest';
import { LEASE_MARGIN_MS } from '../../../functions/domain/rotation/deadlines.js';
import { CREATE_RESERVE_MS } from '../../../functions/domain/timing.js';
import { APP1, P1, T0 } from '../../support/fakes/fixtures.js';
import { datesFor } from '../../support/fakes/pki.js';
import { fakeWorlds, holding, rotate, rowOf } from '../../support/world.js';

/** The hard-timing rules of the engine, on the fake clock: leases, the mint cap, list lag. */

const app1 = APP1;
const world = fakeWorlds();

describe('engine: every create is bounded by the lease, with or without a run deadline', () => {
  it('defers, without a create, when the lease would lapse before a create and its store end', async () => {
    // No run deadline (the CLI without --time-budget); a 3-minute lease.
    const ctx = world({
      config: { locks: { leaseSeconds: 180 }, projects: [{ projectId: P1, users: ['app1'] }] },
    });
    await holding(ctx, app1, datesFor(ctx.clock, 10));
    // The secret's re-read inside the lease is slow: 2 minutes of the lease are gone.
    ctx.store.calls.on('read', () => ctx.clock.advance(120_000));
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({ action: 'deferred' });
    expect(row.reason).toMatch(/^not creating: \d+ s left of the lease on this user/);
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
    expect(ctx.leases.held.size).toBe(0);
  });

  it('mints when the lease leaves room', async () => {
    const ctx = world({
      config: { locks: { leaseSeconds: 180 }, projects: [{ projectId: P1, users: ['app1'] }] },
    });
    await holding(ctx, app1, datesFor(ctx.clock, 10));
    expect(rowOf(await rotate(ctx), 'app1').action).toBe('rotated');
  });

  it('names the run, not the lease, when the run deadline is the nearer bound', async () => {
    const ctx = world({ deadline: () => T0.getTime() + 120_000 });
    await holding(ctx, app1, datesFor(ctx.clock, 10));
    ctx.leases.calls.on('acquire', () => ctx.clock.advance(60_000));
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.action).toBe('deferred');
    expect(row.reason).toMatch(
      /^not creating: 60 s left of the run, a create and its store need 65 s/,
    );
  });

  it('tells the create the last moment an attempt may start: the nearer bound less its reserve', async () => {
    // A 3-minute lease and a run deadline 10 minutes out: the lease is the nearer bound.
    const ctx = world({
      config: { locks: { leaseSeconds: 180 }, projects: [{ projectId: P1, users: ['app1'] }] },
      deadline: () => T0.getTime() + 600_000,
    });
    await holding(ctx, app1, datesFor(ctx.clock, 10));
    expect(rowOf(await rotate(ctx), 'app1').action).toBe('rotated');
    expect(ctx.atlas.startBys).toEqual([
      T0.getTime() + 180_000 - LEASE_MARGIN_MS - CREATE_RESERVE_MS,
    ]);
  });

  it('with the run deadline nearer, startBy is the deadline less the reserve', async () => {
    const ctx = world({ deadline: () => T0.getTime() + 120_000 });
    await holding(ctx, app1, datesFor(ctx.clock, 10));
    expect(rowOf(await rotate(ctx), 'app1').action).toBe('rotated');
    expect(ctx.atlas.startBys).toEqual([T0.getTime() + 120_000 - CREATE_RESERVE_MS]);
  });
});
