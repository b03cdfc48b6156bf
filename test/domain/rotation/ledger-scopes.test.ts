import { describe, expect, it } from 'vitest';
import type { RawConfig } from '../../../functions/domain/config/schema.js';
import { atlasErrorCode } from '../../../functions/domain/error-codes.js';
import { type FailureCode, RotatorError } from '../../../functions/domain/errors.js';
import { STOPPED_REASON } from '../../../functions/domain/report.js';
import { P1, P2 } from '../../support/fakes/fixtures.js';
import { fakeWorlds, rotate, rowOf } from '../../support/world.js';

const newWorld = fakeWorlds();

const world = (config?: RawConfig) => newWorld({ config });
const failure = (scope: 'run' | 'project' | 'user', code: FailureCode = 'NOT_IN_GROUP') =>
  new RotatorError(`Atlas refused (${code})`, { code, remedy: 'grant the role', scope });
const actions = (report: { users: { projectId: string; username: string; action: string }[] }) =>
  report.users.map((u) => `${u.projectId === P1 ? 'P1' : 'P2'}:${u.username}:${u.action}`);

describe('engine: failure scopes', () => {
  const twoProjects: RawConfig = {
    projects: [
      { projectId: P1, users: ['app1', 'app2'] },
      { projectId: P2, users: ['app1'] },
    ],
  };

  it('fails every user of a project once on a project-scoped error; the other runs', async () => {
    const ctx = world(twoProjects);
    const err = failure('project');
    ctx.atlas.calls.fail('listCertificates', err, {
      times: Number.POSITIVE_INFINITY,
      when: (projectId) => projectId === P1,
    });
    const report = await rotate(ctx);
    expect(actions(report)).toEqual(['P1:app1:failed', 'P1:app2:failed', 'P2:app1:rotated']);
    for (const name of ['app1', 'app2']) {
      expect(rowOf(report, name)).toMatchObject({ errorCode: 'NOT_IN_GROUP', reason: err.message });
    }
    expect(ctx.log.messages('error').filter((m) => m === 'project failed')).toHaveLength(1);
    expect(report.error).toBeUndefined();
  });

  it('stops every user on a run-scoped error, and says so in the report', async () => {
    const ctx = world(twoProjects);
    const err = failure('run', atlasErrorCode('UNAUTHORIZED'));
    ctx.atlas.calls.fail('listCertificates', err, { times: Number.POSITIVE_INFINITY });
    const report = await rotate(ctx);
    expect(report.users.map((u) => u.reason)).toEqual(Array(3).fill(STOPPED_REASON));
    expect(report.users.some((u) => u.remedy)).toBe(false);
    expect(report.error?.code).toBe('UNAUTHORIZED');
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
  });
});
