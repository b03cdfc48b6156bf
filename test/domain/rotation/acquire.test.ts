import { describe, expect, it } from 'vitest';
import type { RawConfig } from '../../../functions/domain/config/schema.js';
import { type FailureCode, RotatorError } from '../../../functions/domain/errors.js';
import { STOPPED_REASON } from '../../../functions/domain/report.js';
import { leaseKey } from '../../../functions/domain/rotation/index.js';
import { APP1, P1 } from '../../support/fakes/fixtures.js';
import { leaseTableMissing } from '../../support/fakes/leases.js';
import { datesFor } from '../../support/fakes/pki.js';
import { fakeWorlds, holding, rotate, rowOf, userOf } from '../../support/world.js';

const newWorld = fakeWorlds();

const app1 = APP1;
const world = (config?: RawConfig) => newWorld({ config });
const failure = (scope: 'run' | 'project' | 'user', code: FailureCode = 'NOT_IN_GROUP') =>
  new RotatorError(`Atlas refused (${code})`, { code, remedy: 'grant the role', scope });

describe('engine: leases', () => {
  it('skips a user whose lease another run holds, and takes one that lapsed', async () => {
    const ctx = world();
    await holding(ctx, app1, datesFor(ctx.clock, 10));
    ctx.leases.holdBy(leaseKey(P1, 'app1'), 'run-other', 60_000);
    const until = new Date(ctx.clock.now().getTime() + 60_000).toISOString();
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({
      action: 'skipped',
      reason: `another run holds the lease (run-other, until ${until})`,
    });
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
    expect(ctx.leases.held.get(leaseKey(P1, 'app1'))?.owner).toBe('run-other');

    ctx.clock.advance(60_001);
    expect(rowOf(await rotate(ctx), 'app1').action).toBe('rotated');
  });

  it('re-reads inside the lease: a user another run rotated meanwhile is skipped', async () => {
    const ctx = world();
    const user = userOf(ctx, P1, 'app1');
    await holding(ctx, app1, datesFor(ctx.clock, 10));
    let other = '';
    ctx.leases.calls.on('acquire', async () => {
      const cert = await ctx.atlas.seed(P1, 'app1', datesFor(ctx.clock, 91));
      ctx.store.seedCertificate(user, cert.minted);
      other = cert.serialNumber;
    });
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row.action).toBe('skipped');
    expect(row.reason).toMatch(/^not due: .* \(rotated by another run meanwhile\)$/);
    expect(row.serialNumber).toBe(other);
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
    expect(ctx.leases.held.size).toBe(0);
  });

  it('stops the run when the lease table is missing: every due user fails, once checked', async () => {
    const ctx = world({ projects: [{ projectId: P1, users: ['due', 'none', 'fresh'] }] });
    await holding(ctx, { projectId: P1, username: 'due' }, datesFor(ctx.clock, 10));
    await holding(ctx, { projectId: P1, username: 'fresh' }, datesFor(ctx.clock, 80));
    const missing = leaseTableMissing();
    ctx.leases.calls.fail('check', missing);
    const report = await rotate(ctx);
    for (const name of ['due', 'none']) {
      expect(rowOf(report, name)).toMatchObject({
        action: 'failed',
        reason: STOPPED_REASON,
        errorCode: 'LEASE_TABLE_MISSING',
      });
    }
    expect(rowOf(report, 'fresh').action).toBe('skipped');
    expect(report.error).toEqual({
      code: 'LEASE_TABLE_MISSING',
      message: missing.message,
      remedy: missing.remedy,
    });
    // The command in the remedy is said once, in `error`, however many users it stopped.
    expect(JSON.stringify(report).split(missing.remedy)).toHaveLength(2);
    expect(ctx.leases.calls.count('check')).toBe(1);
    expect(ctx.leases.calls.count('acquire')).toBe(0);
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
  });

  it('fails only the user whose lease cannot be taken (user-scoped)', async () => {
    const ctx = world({ projects: [{ projectId: P1, users: ['app1', 'app2'] }] });
    const unavailable = failure('user', 'LEASE_UNAVAILABLE');
    ctx.leases.calls.fail('acquire', unavailable, { when: (key) => key.endsWith('/app1') });
    const report = await rotate(ctx);
    expect(rowOf(report, 'app1')).toMatchObject({
      action: 'failed',
      errorCode: 'LEASE_UNAVAILABLE',
    });
    expect(rowOf(report, 'app2').action).toBe('rotated');
    expect(report.error).toBeUndefined();
  });

  it('stops the run with a report when the lease check fails unexpectedly', async () => {
    const ctx = world();
    ctx.leases.calls.fail('check', new Error('socket hang up'));
    const report = await rotate(ctx);
    const reason = 'unexpected error: Error: socket hang up';
    expect(rowOf(report, 'app1')).toMatchObject({
      action: 'failed',
      reason: STOPPED_REASON,
      errorCode: 'INTERNAL_ERROR',
    });
    expect(report.error).toMatchObject({ code: 'INTERNAL_ERROR', message: reason });
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
  });
});
