import {
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretStoreError } from '../../../../functions/adapters/aws/secret-store/errors.js';
import { SecretStore } from '../../../../functions/adapters/aws/secret-store.js';
import { readerPolicy } from '../../../../functions/domain/consumers.js';
import { awsError, state } from './fixtures.js';

// The resource policy calls through the SDK, pinned with mocks: moto does not validate
// principals (AWS refuses a policy naming a role that does not exist) and has no quotas.

const sm = mockClient(SecretsManagerClient);
const READER = 'arn:aws:iam::111122223333:role/app1-reader';

beforeEach(() => sm.reset());
afterAll(() => sm.restore());

describe('store: the consumers’ resource policy', () => {
  it('reads the policy, and undefined when the secret has none', async () => {
    const store = new SecretStore(new SecretsManagerClient({}));
    sm.on(GetResourcePolicyCommand)
      .resolvesOnce({ ARN: 'a' })
      .resolvesOnce({ ResourcePolicy: readerPolicy([READER]) });
    expect(await store.readPolicy(state())).toBeUndefined();
    expect(await store.readPolicy(state())).toBe(readerPolicy([READER]));
    expect(sm.commandCalls(GetResourcePolicyCommand)[0]?.args[0].input).toEqual({
      SecretId: state().arn,
    });
  });

  it('puts a policy with public policies blocked, and deletes it when none is wanted', async () => {
    const store = new SecretStore(new SecretsManagerClient({}));
    sm.on(PutResourcePolicyCommand).resolves({});
    sm.on(DeleteResourcePolicyCommand).resolves({});
    await store.putPolicy(state(), readerPolicy([READER]));
    expect(sm.commandCalls(PutResourcePolicyCommand)[0]?.args[0].input).toEqual({
      SecretId: state().arn,
      ResourcePolicy: readerPolicy([READER]),
      BlockPublicPolicy: true,
    });
    await store.putPolicy(state(), undefined);
    expect(sm.commandCalls(DeleteResourcePolicyCommand)[0]?.args[0].input).toEqual({
      SecretId: state().arn,
    });
  });

  it('names a refused policy (a consumer role that does not exist) with what to check', async () => {
    sm.on(PutResourcePolicyCommand).rejects(awsError('MalformedPolicyDocumentException'));
    sm.on(GetResourcePolicyCommand).rejects(awsError('AccessDeniedException'));
    const store = new SecretStore(new SecretsManagerClient({}));
    const put = await store.putPolicy(state(), readerPolicy([READER])).catch((e: unknown) => e);
    expect(put).toBeInstanceOf(SecretStoreError);
    expect(put).toMatchObject({ code: 'RESOURCE_POLICY_REFUSED', scope: 'user' });
    expect((put as SecretStoreError).remedy).toMatch(/consumer principal .* exists/);
    expect((put as Error).message).not.toContain(READER);
    const read = await store.readPolicy(state()).catch((e: unknown) => e);
    expect(read).toMatchObject({ code: 'SECRET_ACCESS_DENIED' });
  });

  it('no longer puts a policy when it creates a secret (the first store does)', async () => {
    sm.on(CreateSecretCommand).resolves({ ARN: 'arn:new' });
    const store = new SecretStore(new SecretsManagerClient({}));
    const created = await store.create('atlas-x509/p/app1', {
      kmsKeyId: undefined,
      projectId: '5e2211c17a3e5a48f5497de3',
      username: 'app1',
    });
    expect(created.policyTag).toBeUndefined();
    expect(sm.commandCalls(PutResourcePolicyCommand)).toHaveLength(0);
  });
});
