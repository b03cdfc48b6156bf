import { describe, expect, it } from 'vitest';
import { LEASE_MARGIN_MS } from '../../../functions/domain/rotation/deadlines.js';
import { CREATE_RESERVE_MS } from '../../../functions/domain/timing.js';
import {
  APP1,
  DAY_MS,
  datesFor,
  fakeWorlds,
  holding,
  P1,
  rotate,
  rowOf,
  T0,
  userOf,
} from '../../support/fakes.js';

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

describe('engine: a promotion stopped between its two label moves', () => {
  const leftOnCurrent = async (ctx: ReturnType<typeof world>) => {
    await holding(ctx, app1, datesFor(ctx.clock, 60));
    const name = userOf(ctx, P1, 'app1').secretName;
    const current = ctx.store.secrets
      .get(name)
      ?.versions.find((v) => v.stages.includes('AWSCURRENT'));
    current?.stages.push('AWSPENDING');
    return { name, currentId: current?.id ?? '' };
  };

  it('removes the AWSPENDING label left on the current version, minting nothing', async () => {
    const ctx = world();
    const { name, currentId } = await leftOnCurrent(ctx);
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.action).toBe('skipped');
    expect(row.reason).toMatch(/removed an AWSPENDING label left on the current version$/);
    expect(ctx.store.labels(name)[currentId]).toEqual(['AWSCURRENT']);
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
  });

  it('a dry run leaves it', async () => {
    const ctx = world();
    const { name, currentId } = await leftOnCurrent(ctx);
    await rotate(ctx, { dryRun: true });
    expect(ctx.store.labels(name)[currentId]).toEqual(['AWSCURRENT', 'AWSPENDING']);
  });
});
