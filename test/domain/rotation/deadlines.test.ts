import { describe, expect, it } from 'vitest';
import type { RawConfig } from '../../../functions/domain/config/schema.js';
import { DeadlineError } from '../../../functions/domain/errors.js';
import { APP1, P1, T0 } from '../../support/fakes/fixtures.js';
import { datesFor } from '../../support/fakes/pki.js';
import { fakeWorlds, holding, rotate, rowOf, userOf } from '../../support/world.js';

const app1 = APP1;
const two: RawConfig = { projects: [{ projectId: P1, users: ['app1', 'app2'] }] };
const world = fakeWorlds();
/** A deadline `ms` after the fake clock's start. */
const endsIn = (ms: number) => () => T0.getTime() + ms;
const waitTooLong = () =>
  new DeadlineError('waiting 120 s for Atlas would pass the run deadline', {
    code: 'DEADLINE_EXCEEDED',
    remedy: 'the next run continues',
  });

describe('engine: deadline and pauses', () => {
  it('defers every user without a call when too little time is left to mint', async () => {
    const ctx = world({ config: two, deadline: endsIn(60_000) });
    await holding(ctx, app1, datesFor(ctx.clock, 80));
    const report = await rotate(ctx);
    expect(report.users.map((u) => [u.action, u.reason])).toEqual(
      Array(2).fill(['deferred', 'out of time for this run; the next run continues']),
    );
    // The index row still tells what app1 holds.
    expect(rowOf(report, 'app1').notAfter).toBe(
      ctx.store.notAfterTag(userOf(ctx, P1, 'app1').secretName),
    );
    expect(ctx.atlas.calls.log).toHaveLength(0);
    expect(ctx.leases.calls.log).toHaveLength(0);
  });

  it('honours a smaller minTimeForMintMs', async () => {
    const ctx = world({ deadline: endsIn(60_000), tuning: { minTimeForMintMs: 30_000 } });
    expect(rowOf(await rotate(ctx), 'app1').action).toBe('rotated');
  });

  it('still plans in a dry run however close the deadline, or while paused', async () => {
    const ctx = world({ deadline: endsIn(1_000), paused: () => true });
    expect(rowOf(await rotate(ctx, { dryRun: true }), 'app1').action).toBe('planned');
  });

  it('defers a due user when time ran out while it was being assessed', async () => {
    const ctx = world({ deadline: endsIn(100_000) });
    await holding(ctx, app1, datesFor(ctx.clock, 10));
    // A slow list: 40 s pass, leaving 60 s, less than the 65 s a create and its store need.
    ctx.atlas.calls.on('listCertificates', () => ctx.clock.advance(40_000));
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.action).toBe('deferred');
    expect(row.reason).toMatch(
      /^out of time for this run \([\d.]+ days left; renewal window opened [\d-]+\); the next run continues$/,
    );
    expect(ctx.leases.calls.count('acquire')).toBe(0);
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
  });

  it('defers a user when Atlas would make it wait past the deadline on create', async () => {
    const ctx = world({ config: two });
    const user = userOf(ctx, P1, 'app1');
    const held = await holding(ctx, app1, datesFor(ctx.clock, 10));
    const err = waitTooLong();
    ctx.atlas.calls.fail('createCertificate', err, { when: (_p, u) => u === 'app1' });
    const report = await rotate(ctx);
    expect(rowOf(report, 'app1')).toMatchObject({
      action: 'deferred',
      reason: err.message,
      serialNumber: held.serialNumber,
      orphans: [],
    });
    expect(rowOf(report, 'app2').action).toBe('rotated');
    expect(Object.values(ctx.store.labels(user.secretName))).toEqual([['AWSCURRENT']]);
    expect(ctx.store.serialAt(user.secretName)).toBe(held.serialNumber);
    expect(ctx.leases.held.size).toBe(0);
    expect(report.summary).toMatchObject({ deferred: 1, rotated: 1, failed: 0 });
  });

  it('defers a user when Atlas would make it wait past the deadline on list', async () => {
    const ctx = world();
    ctx.atlas.calls.fail('listCertificates', waitTooLong());
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({ action: 'deferred', reason: waitTooLong().message });
    expect(ctx.leases.calls.log).toHaveLength(0);
  });

  it('defers new users while Atlas asks the run to pause', async () => {
    let paused = false;
    const ctx = world({ config: { ...two, rotation: { concurrency: 1 } }, paused: () => paused });
    // app1 (no secret, most urgent) starts first; Atlas asks for a pause during its mint.
    ctx.atlas.calls.on('createCertificate', () => {
      paused = true;
    });
    const report = await rotate(ctx);
    expect(report.users.map((u) => u.action)).toEqual(['rotated', 'deferred']);
    expect(rowOf(report, 'app2').reason).toBe(
      'Atlas is rate-limiting this run; the budget goes to users in flight, the next run continues',
    );
  });
});
