import { describe, expect, it } from 'vitest';
import type { RawConfig } from '../../../functions/domain/config/schema.js';
import { type FailureCode, RotatorError } from '../../../functions/domain/errors.js';
import { P1, P2 } from '../../support/fakes/fixtures.js';
import { fakeWorlds, rotate, rowOf } from '../../support/world.js';

const newWorld = fakeWorlds();

const world = (config?: RawConfig) => newWorld({ config });
const failure = (scope: 'run' | 'project' | 'user', code: FailureCode = 'NOT_IN_GROUP') =>
  new RotatorError(`Atlas refused (${code})`, { code, remedy: 'grant the role', scope });
const actions = (report: { users: { projectId: string; username: string; action: string }[] }) =>
  report.users.map((u) => `${u.projectId === P1 ? 'P1' : 'P2'}:${u.username}:${u.action}`);

describe('engine: discovery', () => {
  it('adds MANAGED $external users, minus excluded, customer and listed ones', async () => {
    const ctx = world({
      projects: [{ projectId: P1, users: ['app1'], discover: true, exclude: ['skip'] }],
    });
    ctx.atlas.addUser(P1, 'app1').addUser(P1, 'found').addUser(P1, 'skip');
    ctx.atlas.addUser(P1, 'cust', 'CUSTOMER').addUser(P1, 'pwd', 'NONE');
    const report = await rotate(ctx);
    expect(actions(report)).toEqual(['P1:app1:rotated', 'P1:found:rotated']);
    expect(rowOf(report, 'found').secretName).toBe(`atlas-x509/${P1}/found`);
  });

  it('reports a project whose discovery failed as one row when it lists no users', async () => {
    const ctx = world({
      projects: [
        { projectId: P1, discover: true },
        { projectId: P2, users: ['app1'] },
      ],
    });
    ctx.atlas.calls.fail('listDatabaseUsers', failure('project'));
    const report = await rotate(ctx);
    expect(actions(report)).toEqual(['P2:app1:rotated', 'P1:*:failed']);
    expect(rowOf(report, '*')).toMatchObject({ secretName: '-', errorCode: 'NOT_IN_GROUP' });
  });

  it('fails the listed users of a project whose discovery hit a project-scoped error', async () => {
    const ctx = world({ projects: [{ projectId: P1, users: ['app1'], discover: true }] });
    ctx.atlas.calls.fail('listDatabaseUsers', failure('project'));
    const report = await rotate(ctx);
    expect(actions(report)).toEqual(['P1:app1:failed']);
    expect(ctx.atlas.calls.count('listCertificates')).toBe(0);
  });

  // Documented (docs/reliability.md): a project whose discovery fails fails as a whole, its
  // listed users too, whatever the error's scope; the run cannot tell whom it was to cover.
  it('fails the listed users too when discovery fails with a user-scoped error', async () => {
    const ctx = world({ projects: [{ projectId: P1, users: ['app1'], discover: true }] });
    ctx.atlas.calls.fail('listDatabaseUsers', failure('user', 'ATLAS_UNAVAILABLE'));
    const report = await rotate(ctx);
    expect(rowOf(report, 'app1')).toMatchObject({
      action: 'failed',
      errorCode: 'ATLAS_UNAVAILABLE',
    });
    expect(ctx.atlas.calls.count('createCertificate')).toBe(0);
  });

  it('keeps a row for every user the last successful discovery found when Atlas is unreachable (#24.6)', async () => {
    const ctx = world({
      projects: [{ projectId: P1, users: ['app1'], discover: true, exclude: ['skip'] }],
    });
    ctx.atlas.addUser(P1, 'app1').addUser(P1, 'found').addUser(P1, 'other');
    expect(actions(await rotate(ctx))).toEqual([
      'P1:app1:rotated',
      'P1:found:rotated',
      'P1:other:rotated',
    ]);

    ctx.atlas.calls.fail('listDatabaseUsers', failure('run', 'ATLAS_UNREACHABLE'));
    const report = await rotate(ctx);

    // Before: only the listed user had a row; the discovered ones vanished from the report.
    expect(actions(report)).toEqual(['P1:app1:failed', 'P1:found:failed', 'P1:other:failed']);
    expect(report.error).toMatchObject({ code: 'ATLAS_UNREACHABLE' });
    expect(rowOf(report, 'found')).toMatchObject({ errorCode: 'ATLAS_UNREACHABLE' });
    expect(ctx.atlas.calls.count('createCertificate')).toBe(3);
  });

  it('with a project-scoped discovery failure, the earlier discovered users fail with its cause', async () => {
    const ctx = world({ projects: [{ projectId: P1, discover: true }] });
    ctx.atlas.addUser(P1, 'found');
    await rotate(ctx);
    ctx.atlas.calls.fail('listDatabaseUsers', failure('project'));
    const report = await rotate(ctx);
    expect(actions(report)).toEqual(['P1:found:failed']);
    expect(rowOf(report, 'found')).toMatchObject({ errorCode: 'NOT_IN_GROUP' });
  });
});
