import {
  DescribeSecretCommand,
  ListSecretsCommand,
  ReplicateSecretToRegionsCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { REPLICAS_TAG } from '../../../../functions/adapters/aws/secret-store/tags.js';
import { SecretStore } from '../../../../functions/adapters/aws/secret-store.js';
import { runEvents, runMetrics } from '../../../../functions/adapters/signals.js';
import { versionMark } from '../../../../functions/domain/replicas.js';
import { runRotation } from '../../../../functions/domain/rotation/run.js';
import { versionIdFor } from '../../../../functions/domain/stored-value.js';
import { P1 } from '../../../support/fakes/fixtures.js';
import { datesFor } from '../../../support/fakes/pki.js';
import { fakeWorlds, rowOf } from '../../../support/world.js';

// Issue #25.9, what moto cannot show: a DescribeSecret or ReplicateSecretToRegions that fails
// transiently (a 5xx, throttling after the SDK's retries). On main the row failed with
// SECRET_STORE_FAILED and paged FailedUsers for a secret the run did not otherwise touch. The
// normal path (replicas created, in sync, checked again after a renewal) runs on moto_server in
// test/e2e/replicas.test.ts.

const sm = mockClient(SecretsManagerClient);
beforeEach(() => sm.reset());
afterAll(() => sm.restore());

const ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:atlas-x509/p/app1-AbCdEf';
const serverError = (name: string) =>
  Object.assign(new Error(name), { name, $fault: 'server', $metadata: { httpStatusCode: 500 } });
const store = () => new SecretStore(new SecretsManagerClient({ region: 'us-east-1' }));

describe('a whole run through the adapter: a replica check a transient error kept from running', () => {
  const world = fakeWorlds();

  const setUp = async (regions: string[], tagged: string) => {
    const ctx = world({
      config: {
        defaults: { replicaRegions: regions },
        projects: [{ projectId: P1, users: ['app1'] }],
      },
    });
    const cert = await ctx.atlas.seed(P1, 'app1', datesFor(ctx.clock, 80));
    sm.on(ListSecretsCommand).resolves({
      SecretList: [
        {
          Name: `atlas-x509/${P1}/app1`,
          ARN,
          SecretVersionsToStages: { [versionIdFor(cert.serialNumber)]: ['AWSCURRENT'] },
          Tags: [
            { Key: 'atlas-x509-rotator:not-after', Value: cert.notAfter.toISOString() },
            { Key: REPLICAS_TAG, Value: tagged },
          ],
        },
      ],
    });
    return { ctx, cert };
  };

  it('DescribeSecret failing with InternalServiceError: a warning on the row, no failure, no page', async () => {
    // Checked after the last renewal: this version has not been seen in sync yet.
    const { ctx, cert } = await setUp(['eu-west-1'], `eu-west-1 @${versionMark('00000000-0000')}`);
    sm.on(DescribeSecretCommand).rejects(serverError('InternalServiceError'));
    const report = await runRotation({ ...ctx, store: store() }, { dryRun: false, force: false });
    const row = rowOf(report, 'app1');
    expect(row).toMatchObject({ action: 'skipped', serialNumber: cert.serialNumber });
    expect(row.errorCode).toBeUndefined();
    expect(row.reason).toContain('replicas: could not be checked');
    expect(row.reason).toContain('[SECRET_STORE_FAILED]; a warning: checked again on the next run');
    expect(runMetrics(report, ctx.clock.now(), { criticalDays: 7 }).FailedUsers).toBe(0);
    expect(runEvents(report, ctx.clock.now()).map((e) => e.detailType)).not.toContain(
      'Atlas X509 Rotation Failed',
    );
    // Nothing written: the tag keeps the old mark, so the next run describes it again.
    expect(sm.commandCalls(TagResourceCommand)).toHaveLength(0);

    // The next run: Secrets Manager answers, the replica is in sync, the tag records it.
    sm.on(DescribeSecretCommand).resolves({
      ARN,
      ReplicationStatus: [{ Region: 'eu-west-1', Status: 'InSync' }],
    });
    sm.on(TagResourceCommand).resolves({});
    const next = rowOf(
      await runRotation({ ...ctx, store: store() }, { dryRun: false, force: false }),
      'app1',
    );
    expect(next.action).toBe('skipped');
    expect(next.drift).toBeUndefined();
    expect(sm.commandCalls(DescribeSecretCommand)).toHaveLength(2);
    const tags = sm.commandCalls(TagResourceCommand)[0]?.args[0].input.Tags ?? [];
    expect(tags.find((t) => t.Key === REPLICAS_TAG)?.Value).toMatch(/^eu-west-1 @[0-9a-f]{12}$/);
  });

  it('ReplicateSecretToRegions throttled: a warning, the Region tried again next run', async () => {
    const { ctx } = await setUp(['eu-west-1', 'us-west-2'], `eu-west-1 @${versionMark('0')}`);
    sm.on(DescribeSecretCommand).resolves({
      ARN,
      ReplicationStatus: [{ Region: 'eu-west-1', Status: 'InSync' }],
    });
    sm.on(ReplicateSecretToRegionsCommand).rejects(serverError('ThrottlingException'));
    sm.on(TagResourceCommand).resolves({});
    const report = await runRotation({ ...ctx, store: store() }, { dryRun: false, force: false });
    const row = rowOf(report, 'app1');
    expect(row.action).toBe('skipped');
    expect(row.reason).toContain('replicas: not yet replicated to us-west-2');
    expect(runMetrics(report, ctx.clock.now(), { criticalDays: 7 }).FailedUsers).toBe(0);
    const tags = sm.commandCalls(TagResourceCommand).flatMap((c) => c.args[0].input.Tags ?? []);
    expect(tags.filter((t) => t.Key === REPLICAS_TAG).map((t) => t.Value)).not.toContainEqual(
      expect.stringContaining('us-west-2'),
    );
  });

  it('a confirmed failure still fails the row: DescribeSecret denied', async () => {
    const { ctx } = await setUp(['eu-west-1'], `eu-west-1 @${versionMark('00000000-0000')}`);
    sm.on(DescribeSecretCommand).rejects(
      Object.assign(new Error('denied'), { name: 'AccessDeniedException', $fault: 'client' }),
    );
    const report = await runRotation({ ...ctx, store: store() }, { dryRun: false, force: false });
    expect(rowOf(report, 'app1')).toMatchObject({
      action: 'failed',
      errorCode: 'SECRET_ACCESS_DENIED',
    });
    expect(runMetrics(report, ctx.clock.now(), { criticalDays: 7 }).FailedUsers).toBe(1);
  });
});
