import { describe, expect, it } from 'vitest';
import type { RawConfig } from '../../../functions/domain/config/schema.js';
import { RotatorError } from '../../../functions/domain/errors.js';
import { STOPPED_REASON } from '../../../functions/domain/report.js';
import { P1 } from '../../support/fakes/fixtures.js';
import { datesFor } from '../../support/fakes/pki.js';
import { storeError } from '../../support/fakes/secret-store.js';
import { fakeWorlds, holding, rotate, rowOf } from '../../support/world.js';

/**
 * A failure of the whole run (no region, no AWS credentials, no endpoint, ListSecrets denied)
 * met on the first call to the secret store: the run stops there, says it once in `error`, and
 * every row only points at it.
 */

const newWorld = fakeWorlds();
const users = (...names: string[]): RawConfig => ({ projects: [{ projectId: P1, users: names }] });
const runWide = () =>
  new RotatorError('No AWS region for Secrets Manager ListSecrets (AWS SDK: Region is missing)', {
    code: 'AWS_REGION_MISSING',
    remedy: 'Set AWS_REGION (e.g. AWS_REGION=us-east-1), or region in the AWS profile in use.',
    scope: 'run',
  });

/** How often `text` occurs in the report as JSON. */
const occurrences = (report: unknown, text: string): number =>
  JSON.stringify(report).split(text).length - 1;

describe('engine: a run-wide failure of the secret index', () => {
  it('stops the run before any read, lease or Atlas list, with one message', async () => {
    const ctx = newWorld({ config: users('app1', 'app2', 'app3') });
    const err = runWide();
    ctx.store.calls.fail('index', err);
    const report = await rotate(ctx);
    expect(report.error).toEqual({ code: err.code, message: err.message, remedy: err.remedy });
    expect(report.users.map((u) => [u.username, u.action, u.reason, u.errorCode])).toEqual(
      ['app1', 'app2', 'app3'].map((u) => [u, 'failed', STOPPED_REASON, 'AWS_REGION_MISSING']),
    );
    expect(report.users.some((u) => u.remedy !== undefined)).toBe(false);
    expect(occurrences(report, err.message)).toBe(1);
    expect(occurrences(report, err.remedy)).toBe(1);
    expect(ctx.store.calls.count('read')).toBe(0);
    expect(ctx.atlas.calls.count('listCertificates')).toBe(0);
    expect(ctx.leases.calls.count('check')).toBe(0);
    // Not the fallback's warning: nothing is read one by one.
    expect(ctx.log.entries.some((e) => e.message.startsWith('cannot list secrets'))).toBe(false);
  });

  it('still falls back to reading one by one when the index fails for the user scope', async () => {
    const ctx = newWorld({ config: users('app1') });
    ctx.store.calls.fail('index', storeError('SECRET_STORE_FAILED', 'ListSecrets'));
    await holding(ctx, { projectId: P1, username: 'app1' }, datesFor(ctx.clock, 80));
    const report = await rotate(ctx);
    expect(report.error).toBeUndefined();
    expect(rowOf(report, 'app1').action).toBe('skipped');
    expect(ctx.store.calls.count('read')).toBe(1);
  });

  it('a run-wide failure of a later read stops the users after it, said once', async () => {
    const ctx = newWorld({ config: { ...users('a', 'b', 'c'), rotation: { concurrency: 1 } } });
    for (const u of ['a', 'b', 'c']) {
      await holding(ctx, { projectId: P1, username: u }, datesFor(ctx.clock, 80));
    }
    // The index works; the first per-user read meets the dead endpoint.
    ctx.store.calls.fail('index', storeError('SECRET_STORE_FAILED', 'ListSecrets'));
    const err = runWide();
    ctx.store.calls.fail('read', err);
    const report = await rotate(ctx);
    expect(report.error?.code).toBe('AWS_REGION_MISSING');
    expect(report.users.map((u) => u.reason)).toEqual(Array(3).fill(STOPPED_REASON));
    expect(occurrences(report, err.remedy)).toBe(1);
    expect(ctx.store.calls.count('read')).toBe(1);
  });
});
