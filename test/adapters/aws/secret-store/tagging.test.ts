import {
  DescribeSecretCommand,
  ListSecretsCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  OWN_ACCESS_TAG,
  POLICY_TAG,
  REQUESTS_TAG,
} from '../../../../functions/adapters/aws/secret-store/tags.js';
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

// moto_server returns LastAccessedDate as null and never sets it (`last-accessed.test.ts`):
// Secrets Manager's shape is pinned here.
describe('store: LastAccessedDate and the own-access tag', () => {
  it('reads LastAccessedDate and the own-access tag from the index and from DescribeSecret', async () => {
    const accessed = new Date('2026-12-05T00:00:00Z');
    sm.on(ListSecretsCommand).resolves({
      SecretList: [
        {
          Name: 'atlas-x509/p/app1',
          ARN: 'arn:1',
          LastAccessedDate: accessed,
          Tags: [{ Key: OWN_ACCESS_TAG, Value: '2026-12-01T04:00:00.000Z' }],
        },
        { Name: 'atlas-x509/p/app2', ARN: 'arn:2', Tags: [{ Key: OWN_ACCESS_TAG, Value: 'junk' }] },
      ],
    });
    sm.on(DescribeSecretCommand).resolves({
      ARN: 'arn:1',
      Name: 'atlas-x509/p/app1',
      LastAccessedDate: accessed,
      VersionIdsToStages: {},
    });
    const store = new SecretStore(new SecretsManagerClient({}));
    const index = await store.index('atlas-x509/');
    expect(index.get('atlas-x509/p/app1')).toMatchObject({
      lastAccessedDate: accessed,
      ownAccess: new Date('2026-12-01T04:00:00.000Z'),
    });
    const other = index.get('atlas-x509/p/app2');
    expect(other && 'lastAccessedDate' in other).toBe(false);
    expect(other?.ownAccess).toBeUndefined();
    const read = await store.read('atlas-x509/p/app1', { projectId: 'p', username: 'app1' });
    expect(read?.lastAccessedDate).toEqual(accessed);
  });

  it('writes the own-access tag with the expiry in the same TagResource', async () => {
    sm.on(TagResourceCommand).resolves({});
    const store = new SecretStore(new SecretsManagerClient({}));
    const at = new Date('2026-12-07T04:10:00Z');
    expect(await store.tagNotAfter(state(), new Date('2027-03-07T00:00:00Z'), 'abc', at)).toBe(
      true,
    );
    expect(sm.commandCalls(TagResourceCommand)).toHaveLength(1);
    expect(sm.commandCalls(TagResourceCommand)[0]?.args[0].input.Tags).toEqual([
      { Key: 'atlas-x509-rotator:not-after', Value: '2027-03-07T00:00:00.000Z' },
      { Key: POLICY_TAG, Value: 'abc' },
      { Key: OWN_ACCESS_TAG, Value: '2026-12-07T04:10:00.000Z' },
    ]);
  });
});

describe('store: the requests tag (forced requests served once)', () => {
  it('reads the records from the index and DescribeSecret, and writes them alone', async () => {
    const records = '0123456789abcdef:0b8f8d6e fedcba9876543210:1c2d3e4f';
    sm.on(ListSecretsCommand).resolves({
      SecretList: [
        { Name: 'atlas-x509/p/app1', ARN: 'arn:1', Tags: [{ Key: REQUESTS_TAG, Value: records }] },
        { Name: 'atlas-x509/p/app2', ARN: 'arn:2' },
      ],
    });
    sm.on(DescribeSecretCommand).resolves({
      ARN: 'arn:1',
      Tags: [{ Key: REQUESTS_TAG, Value: records }],
    });
    const store = new SecretStore(new SecretsManagerClient({}));
    const index = await store.index('atlas-x509/');
    expect(index.get('atlas-x509/p/app1')?.servedRequests).toEqual([
      { request: '0123456789abcdef', version: '0b8f8d6e' },
      { request: 'fedcba9876543210', version: '1c2d3e4f' },
    ]);
    expect(index.get('atlas-x509/p/app2')?.servedRequests).toBeUndefined();
    const read = await store.read('atlas-x509/p/app1', { projectId: 'p', username: 'app1' });
    expect(read?.servedRequests).toHaveLength(2);

    sm.on(TagResourceCommand).resolves({});
    await store.tag(state(), { requests: records });
    expect(sm.commandCalls(TagResourceCommand)[0]?.args[0].input).toEqual({
      SecretId: state().arn,
      Tags: [{ Key: REQUESTS_TAG, Value: records }],
    });
  });
});
