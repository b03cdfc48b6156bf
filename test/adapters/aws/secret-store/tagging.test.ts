import {
  ListSecretsCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { POLICY_TAG } from '../../../../functions/adapters/aws/secret-store/tags.js';
import { SecretStore } from '../../../../functions/adapters/aws/secret-store.js';
import { awsError, state } from './fixtures.js';

// The policy tag through the SDK, pinned with mocks like the resource policy (`policy.test.ts`).

const sm = mockClient(SecretsManagerClient);

beforeEach(() => sm.reset());
afterAll(() => sm.restore());

describe('store: the policy tag', () => {
  it('reads it from the index', async () => {
    sm.on(ListSecretsCommand).resolves({
      SecretList: [
        {
          Name: 'atlas-x509/p/app1',
          ARN: 'arn:1',
          Tags: [{ Key: POLICY_TAG, Value: '0123456789abcdef' }],
        },
        { Name: 'atlas-x509/p/app2', ARN: 'arn:2' },
      ],
    });
    const index = await new SecretStore(new SecretsManagerClient({})).index('atlas-x509/');
    expect(index.get('atlas-x509/p/app1')?.policyTag).toBe('0123456789abcdef');
    expect(index.get('atlas-x509/p/app2')?.policyTag).toBeUndefined();
  });

  it('writes it with the expiry in one TagResource, or alone; a refused write throws', async () => {
    sm.on(TagResourceCommand).resolves({});
    const store = new SecretStore(new SecretsManagerClient({}));
    const notAfter = new Date('2026-11-10T03:06:35Z');
    expect(await store.tagNotAfter(state(), notAfter, 'abc')).toBe(true);
    expect(sm.commandCalls(TagResourceCommand)[0]?.args[0].input.Tags).toEqual([
      { Key: 'atlas-x509-rotator:not-after', Value: '2026-11-10T03:06:35.000Z' },
      { Key: POLICY_TAG, Value: 'abc' },
    ]);
    await store.tag(state(), { policy: 'none' });
    expect(sm.commandCalls(TagResourceCommand)[1]?.args[0].input.Tags).toEqual([
      { Key: POLICY_TAG, Value: 'none' },
    ]);
    sm.on(TagResourceCommand).rejects(awsError('AccessDeniedException'));
    await expect(store.tag(state(), { policy: 'abc' })).rejects.toMatchObject({
      code: 'SECRET_ACCESS_DENIED',
    });
    expect(await store.tagNotAfter(state(), notAfter)).toBe(false);
  });
});
