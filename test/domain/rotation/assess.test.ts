import { describe, expect, it } from 'vitest';
import type { RawConfig } from '../../../functions/domain/config/schema.js';
import { APP1, P1 } from '../../support/fakes/fixtures.js';
import { datesFor } from '../../support/fakes/pki.js';
import { fakeWorlds, holding, rotate, rowOf, userOf } from '../../support/world.js';

const newWorld = fakeWorlds();

const app1 = APP1;
const world = (config?: RawConfig) => {
  const ctx = newWorld({ config });
  return { ctx, user: userOf(ctx, P1, ctx.config.projects[0]?.users[0]?.username ?? 'app1') };
};
const forced = { force: true, only: [app1] };

describe('engine: secrets it must not touch', () => {
  it('refuses a secret holding a foreign value (SECRET_FOREIGN_VALUE)', async () => {
    const { ctx, user } = world();
    ctx.store.seedValue(user.secretName, 'hunter2');
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({
      action: 'failed',
      errorCode: 'SECRET_FOREIGN_VALUE',
      reason: `secret ${user.secretName} is not ours: the current value is not JSON`,
      secretArn: ctx.store.secrets.get(user.secretName)?.arn,
      serialNumber: undefined,
    });
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
    expect(ctx.store.calls.count('put')).toBe(0);
  });

  it('replaces a foreign value when forced, keeping it as AWSPREVIOUS', async () => {
    const { ctx, user } = world();
    ctx.store.seedValue(user.secretName, 'hunter2', { versionId: 'foreign' });
    const row = rowOf(await rotate(ctx, forced), 'app1');
    const fresh = ctx.atlas.created[0]?.serialNumber;
    expect(row).toMatchObject({ action: 'rotated', reason: 'rotated (forced by the operator)' });
    expect(ctx.store.serialAt(user.secretName)).toBe(fresh);
    expect(ctx.store.labels(user.secretName).foreign).toEqual(['AWSPREVIOUS']);
  });

  it('refuses a secret scheduled for deletion, even when forced', async () => {
    const { ctx, user } = world();
    const held = await holding(ctx, app1, datesFor(ctx.clock, 10));
    ctx.store.scheduleDeletion(user.secretName);
    for (const request of [{}, forced]) {
      const row = rowOf(await rotate(ctx, request), 'app1');
      expect(row.errorCode).toBe('SECRET_SCHEDULED_FOR_DELETION');
      expect(row.reason).toContain(`secret ${user.secretName} is scheduled for deletion`);
    }
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
    expect(ctx.store.serialAt(user.secretName)).toBe(held.serialNumber);
  });

  it('refuses a held certificate Atlas does not list (HELD_CERTIFICATE_UNKNOWN_TO_ATLAS)', async () => {
    const { ctx, user } = world();
    const held = await holding(ctx, app1, datesFor(ctx.clock, 80), { recorded: false });
    const row = rowOf(await rotate(ctx), 'app1');
    expect(row).toMatchObject({
      action: 'failed',
      errorCode: 'HELD_CERTIFICATE_UNKNOWN_TO_ATLAS',
      serialNumber: held.serialNumber,
    });
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
    // Forced, it is replaced deliberately.
    expect(rowOf(await rotate(ctx, forced), 'app1').action).toBe('rotated');
    expect(ctx.store.serialAt(user.secretName)).toBe(ctx.atlas.created[0]?.serialNumber);
  });

  it('gives a held certificate younger than the grace the benefit of the doubt', async () => {
    const { ctx } = world();
    const now = ctx.clock.now().getTime();
    const dates = {
      notBefore: new Date(now - 3_600_000 - 60_000),
      notAfter: new Date(now + 90 * 86_400_000),
    };
    await holding(ctx, app1, dates, { recorded: false });
    expect(rowOf(await rotate(ctx), 'app1').reason).toMatch(/^not due: /);
  });
});
