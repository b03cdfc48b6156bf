import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretStore } from '../../../../functions/adapters/aws/secret-store.js';
import { parseCurrentValue, serializeStored } from '../../../../functions/domain/stored-value.js';
import { cert, owner } from './fixtures.js';

// moto 5 does not model these behaviours faithfully (measured against moto 5.2.1): token reuse
// with a different value, and stage-less reads after a promotion. They are pinned here with SDK
// mocks.

const sm = mockClient(SecretsManagerClient);

beforeEach(() => sm.reset());
// The mock patches every SecretsManagerClient of this worker (the adapter tests share one).
afterAll(() => sm.restore());

describe('store: rotation by someone else', () => {
  it('reads RotationEnabled from the index and from DescribeSecret (moto cannot enable it)', async () => {
    sm.on(ListSecretsCommand).resolves({
      SecretList: [
        { Name: 'atlas-x509/p/a', ARN: 'arn:a', RotationEnabled: true },
        { Name: 'atlas-x509/p/b', ARN: 'arn:b' },
      ],
    });
    sm.on(DescribeSecretCommand).resolves({ ARN: 'arn:a', RotationEnabled: true });
    const store = new SecretStore(new SecretsManagerClient({}));
    const index = await store.index('atlas-x509/');
    expect(index.get('atlas-x509/p/a')?.rotationEnabled).toBe(true);
    expect(index.get('atlas-x509/p/b')?.rotationEnabled).toBe(false);
    expect((await store.read('atlas-x509/p/a', owner))?.rotationEnabled).toBe(true);
  });
});

describe('store: read', () => {
  it('returns undefined for a missing secret', async () => {
    sm.on(DescribeSecretCommand).rejects(
      new ResourceNotFoundException({ message: 'nope', $metadata: {} }),
    );
    expect(await new SecretStore(new SecretsManagerClient({})).read('x', owner)).toBeUndefined();
  });

  it('always reads the current value by explicit stage, and finds a pending version', async () => {
    sm.on(DescribeSecretCommand).resolves({
      ARN: 'arn:x',
      CreatedDate: new Date('2026-01-01T00:00:00Z'),
      VersionIdsToStages: { a: ['AWSCURRENT'], b: ['AWSPENDING'], c: ['AWSPREVIOUS'] },
    });
    sm.on(GetSecretValueCommand).resolves({ SecretString: serializeStored(owner, cert) });
    const got = await new SecretStore(new SecretsManagerClient({})).read('x', owner);
    expect(sm.commandCalls(GetSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: 'x',
      VersionStage: 'AWSCURRENT',
    });
    expect(got?.currentVersionId).toBe('a');
    expect(got?.pendingVersionId).toBe('b');
    expect(got?.current).toMatchObject({
      kind: 'ours',
      value: { serialNumber: cert.serialNumber },
    });
  });

  it('treats AWSPENDING on the current version as done, not pending', async () => {
    sm.on(DescribeSecretCommand).resolves({
      ARN: 'arn:x',
      VersionIdsToStages: { a: ['AWSCURRENT', 'AWSPENDING'] },
    });
    sm.on(GetSecretValueCommand).resolves({ SecretString: serializeStored(owner, cert) });
    const got = await new SecretStore(new SecretsManagerClient({})).read('x', owner);
    expect(got?.pendingVersionId).toBeUndefined();
  });

  it('uses a secret another run created a moment ago', async () => {
    sm.on(CreateSecretCommand).rejects(
      new ResourceExistsException({ message: 'exists', $metadata: {} }),
    );
    sm.on(DescribeSecretCommand).resolves({ ARN: 'arn:x', VersionIdsToStages: {} });
    const got = await new SecretStore(new SecretsManagerClient({})).create('x', {
      ...owner,
      kmsKeyId: undefined,
    });
    expect(got.arn).toBe('arn:x');
  });
});

describe('store: current value', () => {
  it.each([
    ['not JSON', 'hello', 'not JSON'],
    ['someone else’s JSON', '{"password":"x"}', 'not a certificate written by this rotator'],
    [
      'another user’s certificate',
      serializeStored({ ...owner, username: 'other' }, cert),
      'holds the certificate of',
    ],
  ])('reports %s as foreign', (_label, text, problem) => {
    const value = parseCurrentValue(text, owner);
    expect(value.kind).toBe('foreign');
    expect(value.kind === 'foreign' && value.problem).toContain(problem);
  });

  it('never echoes the value in the problem', () => {
    const value = parseCurrentValue('{"privateKey":"-----BEGIN PRIVATE KEY-----\\nSECRET"}', owner);
    expect(JSON.stringify(value)).not.toContain('SECRET');
  });
});

describe('store: create', () => {
  it('creates an empty secret with the configured KMS key and ownership tags', async () => {
    sm.on(CreateSecretCommand).resolves({ ARN: 'arn:new' });
    sm.on(DescribeSecretCommand).resolves({ ARN: 'arn:new', VersionIdsToStages: {} });
    const store = new SecretStore(new SecretsManagerClient({}));
    const got = await store.create('atlas-x509/p/app1', {
      ...owner,
      kmsKeyId: 'alias/atlas-x509-rotator',
    });
    const input = sm.commandCalls(CreateSecretCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      Name: 'atlas-x509/p/app1',
      KmsKeyId: 'alias/atlas-x509-rotator',
    });
    expect(input?.SecretString).toBeUndefined();
    expect(input?.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'atlas-x509-rotator:managed-by', Value: 'atlas-x509-rotator' },
        { Key: 'atlas-x509-rotator:project-id', Value: owner.projectId },
        { Key: 'atlas-x509-rotator:username', Value: 'app1' },
      ]),
    );
    expect(got).toMatchObject({ arn: 'arn:new', currentVersionId: undefined });
  });
});
