import {
  PutSecretValueCommand,
  ResourceExistsException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { SecretStoreError } from '../../../../functions/adapters/aws/secret-store/errors.js';
import { SecretStore } from '../../../../functions/adapters/aws/secret-store.js';
import { serializeStored, versionIdFor } from '../../../../functions/domain/stored-value.js';
import { cert, owner, state } from './fixtures.js';

// moto 5 does not model these behaviours faithfully (measured against moto 5.2.1): token reuse
// with a different value, and stage-less reads after a promotion. They are pinned here with SDK
// mocks.

const sm = mockClient(SecretsManagerClient);

beforeEach(() => sm.reset());
// The mock patches every SecretsManagerClient of this worker (the adapter tests share one).
afterAll(() => sm.restore());

describe('store: version ids', () => {
  it('derives a stable UUID from the serial', () => {
    expect(versionIdFor('1976722359483124370')).toBe(versionIdFor('1976722359483124370'));
    expect(versionIdFor('1976722359483124370')).not.toBe(versionIdFor('1976722359483124371'));
    expect(versionIdFor('1')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('serialises byte-identically every time', () => {
    expect(serializeStored(owner, cert)).toBe(serializeStored(owner, { ...cert }));
    expect(JSON.parse(serializeStored(owner, cert))).toEqual({
      username: 'app1',
      projectId: owner.projectId,
      certificate: cert.certificate,
      privateKey: cert.privateKey,
      pem: cert.pem,
      serialNumber: '1976722359483124370',
      notBefore: '2026-08-10T02:06:35.000Z',
      notAfter: '2026-11-10T03:06:35.000Z',
    });
  });
});

describe('store: put', () => {
  it('writes AWSPENDING with the serial-derived token into a secret that has a current version', async () => {
    sm.on(PutSecretValueCommand).resolves({});
    const store = new SecretStore(new SecretsManagerClient({}));
    const id = await store.put(state(), serializeStored(owner, cert), cert.serialNumber);
    expect(id).toBe(versionIdFor(cert.serialNumber));
    expect(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input).toEqual({
      SecretId: state().arn,
      ClientRequestToken: id,
      SecretString: serializeStored(owner, cert),
      VersionStages: ['AWSPENDING'],
    });
  });

  it('writes the first version of an empty secret as AWSCURRENT', async () => {
    sm.on(PutSecretValueCommand).resolves({});
    const store = new SecretStore(new SecretsManagerClient({}));
    await store.put(state({ versions: new Map(), currentVersionId: undefined }), 'x', '7');
    expect(sm.commandCalls(PutSecretValueCommand)[0]?.args[0].input.VersionStages).toEqual([
      'AWSCURRENT',
    ]);
  });

  it('surfaces a token reused with a different value (AWS raises ResourceExistsException; moto does not)', async () => {
    sm.on(PutSecretValueCommand).rejects(
      new ResourceExistsException({ message: 'exists', $metadata: {} }),
    );
    const store = new SecretStore(new SecretsManagerClient({}));
    const err = await store.put(state(), 'other', cert.serialNumber).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretStoreError);
    expect((err as SecretStoreError).code).toBe('SECRET_STORE_FAILED');
  });

  it('names KMS failures with what to fix', async () => {
    sm.on(PutSecretValueCommand).rejects(
      Object.assign(new Error('kms'), { name: 'EncryptionFailure' }),
    );
    const store = new SecretStore(new SecretsManagerClient({}));
    const err = (await store.put(state(), 'x', '7').catch((e: unknown) => e)) as SecretStoreError;
    expect(err.code).toBe('KMS_ACCESS_DENIED');
    expect(err.remedy).toMatch(/key policy/);
  });
});

describe('store: promote', () => {
  it('moves AWSCURRENT from the old version and clears AWSPENDING', async () => {
    sm.on(UpdateSecretVersionStageCommand).resolves({});
    const store = new SecretStore(new SecretsManagerClient({}));
    await store.promote(state(), 'v-new');
    expect(sm.commandCalls(UpdateSecretVersionStageCommand).map((c) => c.args[0].input)).toEqual([
      {
        SecretId: state().arn,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: 'v-new',
        RemoveFromVersionId: 'v-old',
      },
      { SecretId: state().arn, VersionStage: 'AWSPENDING', RemoveFromVersionId: 'v-new' },
    ]);
  });
});
