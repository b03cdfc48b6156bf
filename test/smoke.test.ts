import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { expect, it } from 'vitest';

it('reaches moto_server through the standard endpoint variables', async () => {
  const sm = new SecretsManagerClient({});
  const name = `smoke/${Date.now()}`;
  await sm.send(new CreateSecretCommand({ Name: name, SecretString: 'x' }));
  const got = await sm.send(
    new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' }),
  );
  expect(got.SecretString).toBe('x');
});
