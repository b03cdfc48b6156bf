import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import {
  CredentialsError,
  resolveAtlasCredentials,
} from '../../../functions/adapters/aws/credentials.js';
import { sm } from '../../support/aws.js';

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
