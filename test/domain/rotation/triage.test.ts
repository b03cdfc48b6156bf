import { describe, expect, it } from 'vitest';
import type { RawConfig } from '../../../functions/domain/config/schema.js';
import { RequestError } from '../../../functions/domain/rotation/index.js';
import { P1, P2 } from '../../support/fakes/fixtures.js';
import { fakeWorlds, rotate, rowOf, userOf } from '../../support/world.js';

const newWorld = fakeWorlds();

const world = (config?: RawConfig) => {
  const ctx = newWorld({ config });
  return { ctx, user: userOf(ctx, P1, ctx.config.projects[0]?.users[0]?.username ?? 'app1') };
};

describe('engine: users it does not run', () => {
  it('fails both users whose secret names collide (SECRET_NAME_COLLISION)', async () => {
    const { ctx } = world({
      projects: [
        { projectId: P1, users: [{ username: 'app1', secretName: `${P1}/app2` }], discover: true },
      ],
    });
    ctx.atlas.addUser(P1, 'app2');
    const report = await rotate(ctx);
    const name = `atlas-x509/${P1}/app2`;
    expect(rowOf(report, 'app1')).toMatchObject({
      action: 'failed',
      errorCode: 'SECRET_NAME_COLLISION',
      reason: `secret name ${name} is also the name for ${P1}:app2`,
    });
    expect(rowOf(report, 'app2')).toMatchObject({
      action: 'failed',
      errorCode: 'SECRET_NAME_COLLISION',
      reason: `secret name ${name} is also the name for ${P1}:app1`,
    });
    expect(ctx.atlas.calls.count('listCertificates')).toBe(0);
  });

  it('skips a disabled user without a call, and runs the others', async () => {
    const { ctx } = world({
      projects: [{ projectId: P1, users: [{ username: 'app1', enabled: false }, 'app2'] }],
    });
    const report = await rotate(ctx);
    expect(rowOf(report, 'app1')).toMatchObject({
      action: 'skipped',
      reason: 'disabled in config (enabled: false)',
    });
    expect(rowOf(report, 'app2').action).toBe('rotated');
    expect(ctx.atlas.calls.count('listCertificates', (_p, u) => u === 'app1')).toBe(0);
  });

  it('reports an only that names no configured user (USER_NOT_CONFIGURED)', async () => {
    const { ctx } = world({ projects: [{ projectId: P1, users: ['app1', 'app2'] }] });
    const ghost = { projectId: P2, username: 'ghost' };
    const report = await rotate(ctx, { only: [ghost, { projectId: P1, username: 'app2' }] });
    expect(report.users.map((u) => `${u.username}:${u.action}`)).toEqual([
      'app2:rotated',
      'ghost:failed',
    ]);
    expect(rowOf(report, 'ghost', P2)).toMatchObject({
      secretName: '-',
      errorCode: 'USER_NOT_CONFIGURED',
    });

    // With no user left to run, not even the secret index is read.
    const lone = world().ctx;
    const alone = await rotate(lone, { only: [ghost] });
    expect(alone.users.map((u) => u.errorCode)).toEqual(['USER_NOT_CONFIGURED']);
    expect(lone.store.calls.log).toHaveLength(0);
  });

  it('rejects a request that contradicts itself before any call', async () => {
    const { ctx } = world();
    await expect(rotate(ctx, { force: true })).rejects.toBeInstanceOf(RequestError);
    await expect(rotate(ctx, { all: true })).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    expect(ctx.atlas.calls.log).toHaveLength(0);
  });
});
