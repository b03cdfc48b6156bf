import { randomBytes } from 'node:crypto';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { SecretStore } from '../../../../functions/adapters/aws/secret-store.js';
import { secretExists, sm } from '../../../../tools/aws/seed.js';

const owner = {
  projectId: '5e2211c17a3e5a48f5497de3',
  username: 'app1',
  kmsKeyId: undefined,
  replicaRegions: [{ region: 'eu-west-1', kmsKeyId: undefined }],
};

describe('store: removeEmpty of a secret created with replicas (moto_server)', () => {
  it('removes the replica first (Secrets Manager refuses to delete a replicated secret)', async () => {
    const store = new SecretStore(sm());
    const name = `rm-${randomBytes(5).toString('hex')}/app1`;
    const state = await store.create(name, owner);
    const replica = state.arn.replace(':us-east-1:', ':eu-west-1:');
    const inEu = new SecretsManagerClient({ region: 'eu-west-1' });
    await expect(
      inEu.send(new DescribeSecretCommand({ SecretId: replica })),
    ).resolves.toMatchObject({ PrimaryRegion: 'us-east-1' });

    await expect(store.removeEmpty(state)).resolves.toBe(true);
    expect(await secretExists(name)).toBe(false);
    await expect(inEu.send(new DescribeSecretCommand({ SecretId: replica }))).rejects.toThrow();
    // No recovery window, here or there: the name is free again, replicas and all.
    await expect(store.create(name, owner)).resolves.toMatchObject({ name });
  });
});
