import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  RemoveRegionsFromReplicationCommand,
  ReplicateSecretToRegionsCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  MANAGED_BY_TAG,
  MANAGED_BY_VALUE,
  REPLICAS_TAG,
} from '../../../../functions/adapters/aws/secret-store/tags.js';
import { SecretStore } from '../../../../functions/adapters/aws/secret-store.js';
import { RotatorError } from '../../../../functions/domain/errors.js';
import { versionMark } from '../../../../functions/domain/replicas.js';
import { runRotation } from '../../../../functions/domain/rotation/run.js';
import { type SecretState, versionIdFor } from '../../../../functions/domain/stored-value.js';
import { P1 } from '../../../support/fakes/fixtures.js';
import { datesFor } from '../../../support/fakes/pki.js';
import { fakeWorlds, rowOf } from '../../../support/world.js';

// What moto cannot show: it ignores replica keys and never fails a replica for a key. The
// requests and the answers are pinned here with the SDK mock.

const sm = mockClient(SecretsManagerClient);
beforeEach(() => sm.reset());
afterAll(() => sm.restore());

const ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:atlas-x509/p/app1-AbCdEf';
const owner = { projectId: P1, username: 'app1', kmsKeyId: 'alias/primary' };
const state = (over: Partial<SecretState> = {}): SecretState => ({
  name: 'atlas-x509/p/app1',
  arn: ARN,
  createdDate: new Date(0),
  deletedDate: undefined,
  versions: new Map([['v-1', ['AWSCURRENT']]]),
  currentVersionId: 'v-1',
  pendingVersionId: undefined,
  current: undefined,
  notAfterHint: undefined,
  ...over,
});
const awsError = (name: string) => Object.assign(new Error(name), { name, $fault: 'client' });
const store = () => new SecretStore(new SecretsManagerClient({ region: 'us-east-1' }));

describe('store: replicas on the wire (SDK mock)', () => {
  it('creates a secret with its replicas, each with its key, and the replicas tag', async () => {
    sm.on(CreateSecretCommand).resolves({ ARN });
    const created = await store().create('atlas-x509/p/app1', {
      ...owner,
      replicaRegions: [
        { region: 'us-west-2', kmsKeyId: undefined },
        { region: 'eu-west-1', kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/mrk-1' },
      ],
    });
    const input = sm.commandCalls(CreateSecretCommand)[0]?.args[0].input;
    expect(input?.KmsKeyId).toBe('alias/primary');
    expect(input?.AddReplicaRegions).toEqual([
      { Region: 'us-west-2' },
      { Region: 'eu-west-1', KmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/mrk-1' },
    ]);
    // Said explicitly: IAM refuses a replication that does not (#25.4).
    expect(input?.ForceOverwriteReplicaSecret).toBe(false);
    expect(input?.Tags).toContainEqual({ Key: REPLICAS_TAG, Value: 'eu-west-1 us-west-2' });
    expect(input?.Tags).toContainEqual({ Key: MANAGED_BY_TAG, Value: MANAGED_BY_VALUE });
    expect(created.replicaTag).toEqual({
      regions: ['us-west-2', 'eu-west-1'],
      verified: undefined,
    });

    sm.reset();
    sm.on(CreateSecretCommand).resolves({ ARN });
    await store().create('atlas-x509/p/app1', owner);
    const plain = sm.commandCalls(CreateSecretCommand)[0]?.args[0].input;
    expect(plain?.AddReplicaRegions).toBeUndefined();
    expect(plain?.ForceOverwriteReplicaSecret).toBeUndefined();
    expect(plain?.Tags?.map((t) => t.Key)).not.toContain(REPLICAS_TAG);
  });

  it('replicates to Regions with their keys, never overwriting a secret there', async () => {
    sm.on(ReplicateSecretToRegionsCommand).resolves({
      ARN,
      ReplicationStatus: [
        { Region: 'us-west-2', Status: 'InSync', StatusMessage: 'Replication succeeded' },
        { Region: 'eu-west-1', Status: 'InProgress' },
      ],
    });
    const statuses = await store().replicate(state(), [
      { region: 'eu-west-1', kmsKeyId: 'alias/certs' },
    ]);
    expect(sm.commandCalls(ReplicateSecretToRegionsCommand)[0]?.args[0].input).toEqual({
      SecretId: ARN,
      AddReplicaRegions: [{ Region: 'eu-west-1', KmsKeyId: 'alias/certs' }],
      ForceOverwriteReplicaSecret: false,
    });
    expect(statuses).toEqual([
      { region: 'us-west-2', status: 'InSync', message: 'Replication succeeded' },
      { region: 'eu-west-1', status: 'InProgress', message: undefined },
    ]);
  });

  it.each([
    ['InvalidParameterException', 'REPLICA_REGION_REFUSED'],
    ['AccessDeniedException', 'SECRET_ACCESS_DENIED'],
    ['KMSInvalidStateException', 'KMS_ACCESS_DENIED'],
  ])('names a refused replication: %s → %s', async (error, code) => {
    sm.on(ReplicateSecretToRegionsCommand).rejects(awsError(error));
    const refused = await store()
      .replicate(state(), [{ region: 'eu-west-1', kmsKeyId: undefined }])
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RotatorError);
    expect(refused).toMatchObject({ code, scope: 'user' });
    expect((refused as Error).message).toContain('atlas-x509/p/app1');
  });

  it('reads replica status from DescribeSecret, never from ListSecrets', async () => {
    sm.on(DescribeSecretCommand).resolves({
      ARN,
      ReplicationStatus: [
        { Region: 'eu-west-1', Status: 'Failed', StatusMessage: 'Access to KMS is not allowed' },
        // A status the SDK's types do not know yet must not break the run.
        { Region: 'us-west-2', Status: 'Detached' as unknown as 'InSync' },
      ],
    });
    expect(await store().replicationStatus(state())).toEqual([
      { region: 'eu-west-1', status: 'Failed', message: 'Access to KMS is not allowed' },
      { region: 'us-west-2', status: 'unknown', message: undefined },
    ]);

    sm.on(ListSecretsCommand).resolves({
      SecretList: [
        {
          Name: 'atlas-x509/p/app1',
          ARN,
          SecretVersionsToStages: { 'v-1': ['AWSCURRENT'] },
          Tags: [{ Key: REPLICAS_TAG, Value: 'eu-west-1 @0123456789ab' }],
        },
      ],
    });
    const indexed = (await store().index('atlas-x509/')).get('atlas-x509/p/app1');
    expect(indexed?.replicaTag).toEqual({ regions: ['eu-west-1'], verified: '0123456789ab' });
    expect(indexed?.replication).toBeUndefined();
  });

  it('writes the replicas tag in the same TagResource as the others', async () => {
    sm.on(TagResourceCommand).resolves({});
    await store().tag(state(), {
      policy: 'none',
      replicas: { regions: ['us-west-2', 'eu-west-1'], verified: '0123456789ab' },
    });
    expect(sm.commandCalls(TagResourceCommand)).toHaveLength(1);
    expect(sm.commandCalls(TagResourceCommand)[0]?.args[0].input.Tags).toEqual([
      { Key: 'atlas-x509-rotator:policy', Value: 'none' },
      { Key: REPLICAS_TAG, Value: 'eu-west-1 us-west-2 @0123456789ab' },
    ]);
  });

  it('removes the replicas of an empty secret it created before deleting it', async () => {
    sm.on(DescribeSecretCommand).resolves({
      ARN,
      Tags: [{ Key: MANAGED_BY_TAG, Value: MANAGED_BY_VALUE }],
      ReplicationStatus: [{ Region: 'eu-west-1', Status: 'InSync' }],
    });
    sm.on(ListSecretVersionIdsCommand).resolves({ Versions: [] });
    sm.on(RemoveRegionsFromReplicationCommand).resolves({ ARN });
    sm.on(DeleteSecretCommand).resolves({ ARN });
    await expect(store().removeEmpty(state({ currentVersionId: undefined }))).resolves.toBe(true);
    const sent = sm.calls().map((c) => c.args[0].constructor.name);
    expect(sent).toEqual([
      'DescribeSecretCommand',
      'ListSecretVersionIdsCommand',
      'RemoveRegionsFromReplicationCommand',
      'DeleteSecretCommand',
    ]);
    expect(sm.commandCalls(RemoveRegionsFromReplicationCommand)[0]?.args[0].input).toEqual({
      SecretId: ARN,
      RemoveReplicaRegions: ['eu-west-1'],
    });
  });
});

describe('a whole run through the adapter: a replica failing (SDK mock)', () => {
  const world = fakeWorlds();

  it('fails the user with REPLICA_FAILED and what Secrets Manager said, writing nothing', async () => {
    const ctx = world({
      config: {
        defaults: { replicaRegions: ['eu-west-1'] },
        projects: [{ projectId: P1, users: ['app1'] }],
      },
    });
    const cert = await ctx.atlas.seed(P1, 'app1', datesFor(ctx.clock, 80));
    const version = versionIdFor(cert.serialNumber);
    const name = `atlas-x509/${P1}/app1`;
    sm.on(ListSecretsCommand).resolves({
      SecretList: [
        {
          Name: name,
          ARN,
          SecretVersionsToStages: { [version]: ['AWSCURRENT'] },
          Tags: [
            { Key: 'atlas-x509-rotator:not-after', Value: cert.notAfter.toISOString() },
            // Checked after the last renewal: this version has not been seen in sync yet.
            { Key: REPLICAS_TAG, Value: `eu-west-1 @${versionMark('00000000-0000')}` },
          ],
        },
      ],
    });
    sm.on(DescribeSecretCommand).resolves({
      ARN,
      ReplicationStatus: [
        {
          Region: 'eu-west-1',
          KmsKeyId: 'alias/certs',
          Status: 'Failed',
          StatusMessage: 'Access to KMS is not allowed',
        },
      ],
    });
    const report = await runRotation({ ...ctx, store: store() }, { dryRun: false, force: false });
    const row = rowOf(report, 'app1');
    expect(row).toMatchObject({
      action: 'failed',
      errorCode: 'REPLICA_FAILED',
      serialNumber: cert.serialNumber,
    });
    expect(row.reason).toContain('replica in eu-west-1 failed: Access to KMS is not allowed');
    const sent = sm.calls().map((c) => c.args[0].constructor.name);
    expect(sent).toEqual(['ListSecretsCommand', 'DescribeSecretCommand']);
  });
});
