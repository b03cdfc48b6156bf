import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import {
  atlasCredentialSource,
  CredentialsError,
  resolveAtlasCredentials,
} from '../../../functions/adapters/aws/credentials.js';
import { sm } from '../../../tools/aws/seed.js';

const secretWith = async (value: string): Promise<string> => {
  const name = `creds/${Math.random().toString(36).slice(2)}`;
  await sm().send(new CreateSecretCommand({ Name: name, SecretString: value }));
  return name;
};

const resolve = (env: NodeJS.ProcessEnv, secretId?: string) =>
  resolveAtlasCredentials({ env, secretId, secrets: sm() });

describe('Atlas credentials (moto_server)', () => {
  it('prefers the service account variables', async () => {
    const env = {
      MONGODB_ATLAS_CLIENT_ID: 'id',
      MONGODB_ATLAS_CLIENT_SECRET: 'sec',
      MONGODB_ATLAS_PUBLIC_API_KEY: 'pub',
      MONGODB_ATLAS_PRIVATE_API_KEY: 'priv',
    };
    expect(await resolve(env)).toEqual({
      kind: 'serviceAccount',
      clientId: 'id',
      clientSecret: 'sec',
    });
  });

  it('takes a legacy API key from the environment', async () => {
    expect(
      await resolve({ MONGODB_ATLAS_PUBLIC_API_KEY: 'pub', MONGODB_ATLAS_PRIVATE_API_KEY: 'priv' }),
    ).toEqual({
      kind: 'apiKey',
      publicApiKey: 'pub',
      privateApiKey: 'priv',
    });
  });

  it('reads either shape from the credentials secret', async () => {
    expect(
      await resolve({}, await secretWith('{"clientId":"id","clientSecret":"sec"}')),
    ).toMatchObject({
      kind: 'serviceAccount',
    });
    expect(
      await resolve({}, await secretWith('{"publicApiKey":"pub","privateApiKey":"priv"}')),
    ).toMatchObject({
      kind: 'apiKey',
    });
  });

  it.each([
    [
      { MONGODB_ATLAS_CLIENT_ID: 'id' },
      undefined,
      'MONGODB_ATLAS_CLIENT_SECRET is not set but MONGODB_ATLAS_CLIENT_ID is',
    ],
    [{}, undefined, 'No Atlas credentials found'],
    [
      {},
      'missing/secret',
      'Cannot read the Atlas credentials secret missing/secret (ResourceNotFoundException)',
    ],
  ])('fails clearly: %j %s', async (env, secretId, message) => {
    await expect(resolve(env, secretId)).rejects.toThrow(message);
  });

  it('rejects a malformed secret without echoing it', async () => {
    for (const value of ['not json sk-123', '{"clientId":"id","password":"sk-123"}']) {
      const err = await resolve({}, await secretWith(value)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CredentialsError);
      expect(String((err as Error).message)).not.toContain('sk-123');
      expect((err as CredentialsError).scope).toBe('run');
    }
  });
});

describe('the managed shape, {clientId, clientSecret, orgId} (moto_server)', () => {
  const ORG = '5f0123456789abcdef012345';
  const managed = (secret: string, orgId = ORG) =>
    JSON.stringify({ clientId: 'mdb_sa_id_0123456789abcdef01234567', clientSecret: secret, orgId });

  it('reads it, keeping the organization', async () => {
    const id = await secretWith(managed('mdb_sa_sk_one', ORG.toUpperCase()));

    expect(await resolve({}, id)).toEqual({
      kind: 'serviceAccount',
      clientId: 'mdb_sa_id_0123456789abcdef01234567',
      clientSecret: 'mdb_sa_sk_one',
      orgId: ORG,
    });
  });

  it('accepts the organization the config names, refuses another', async () => {
    const id = await secretWith(managed('mdb_sa_sk_one'));
    const read = (organizationId: string) =>
      resolveAtlasCredentials({ env: {}, secretId: id, secrets: sm(), organizationId });

    await expect(read(ORG)).resolves.toMatchObject({ orgId: ORG });
    const err = await read('6a1f00aa00bb00cc00dd00ee').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialsError);
    expect(err).toMatchObject({
      code: 'ATLAS_CREDENTIALS_ORG_MISMATCH',
      scope: 'run',
      message: `The Atlas credentials secret ${id} is for organization ${ORG}, but atlas.organizationId is 6a1f00aa00bb00cc00dd00ee`,
    });
    expect(String(err)).not.toContain('mdb_sa_sk_one');
  });

  it('says an empty secret (a managed secret before its first value) holds nothing, and what to put', async () => {
    const id = await secretWith('{}');

    const err = (await resolve({}, id).catch((e: unknown) => e)) as CredentialsError;

    expect(err).toBeInstanceOf(CredentialsError);
    expect(err.code).toBe('ATLAS_CREDENTIALS_MISSING');
    expect(err.message).toBe(
      `The Atlas credentials secret ${id} is empty ({}): no credential was put in it yet`,
    );
    expect(err.remedy).toContain('"orgId"');
    expect(err.remedy).toContain(`in ${id}`);
  });

  it.each([
    ['{"clientId":"id","orgId":"5f0123456789abcdef012345"}', 'lacks clientSecret of'],
    ['{"clientId":"id","clientSecret":"sk-123","orgId":"acme"}', 'has an orgId that is not'],
    ['{"publicApiKey":"pub"}', 'lacks privateApiKey of'],
  ])('names what %s lacks, never a value', async (value, message) => {
    const err = await resolve({}, await secretWith(value)).catch((e: unknown) => e);

    expect(err).toBeInstanceOf(CredentialsError);
    expect(String((err as Error).message)).toContain(message);
    expect(String((err as Error).message)).not.toContain('sk-123');
  });

  it('reads the secret again on demand, so a value rotated since is seen', async () => {
    const id = await secretWith(managed('mdb_sa_sk_one'));
    const source = await atlasCredentialSource({ env: {}, secretId: id, secrets: sm() });
    await sm().send(
      new PutSecretValueCommand({ SecretId: id, SecretString: managed('mdb_sa_sk_two') }),
    );

    expect(source.credentials).toMatchObject({ clientSecret: 'mdb_sa_sk_one' });
    await expect(source.reread?.()).resolves.toMatchObject({ clientSecret: 'mdb_sa_sk_two' });
  });

  it('has nothing to read again for a credential from the environment', async () => {
    const source = await atlasCredentialSource({
      env: { MONGODB_ATLAS_CLIENT_ID: 'id', MONGODB_ATLAS_CLIENT_SECRET: 'sec' },
      secretId: 'ignored',
      secrets: sm(),
    });

    expect(source.reread).toBeUndefined();
  });
});
