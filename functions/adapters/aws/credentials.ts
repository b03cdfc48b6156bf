import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import { RotatorError } from '../../domain/errors.js';
import type { AtlasCredentials } from '../atlas/auth.js';
import { runWideError } from './run-wide.js';

/**
 * Where the Atlas credential comes from: the environment variables the Atlas CLI uses, else
 * the credentials secret named in the config. Values never appear in errors or logs.
 */

export class CredentialsError extends RotatorError {
  constructor(message: string, remedy: string, cause?: unknown) {
    super(message, { code: 'ATLAS_CREDENTIALS_MISSING', remedy, scope: 'run', cause });
    this.name = 'CredentialsError';
  }
}

const nonEmpty = z.string().trim().min(1);

/** The credentials secret's JSON: a service account (recommended) or a legacy API key. */
const credentialsSecretSchema = z.union([
  z.object({ clientId: nonEmpty, clientSecret: nonEmpty }),
  z.object({ publicApiKey: nonEmpty, privateApiKey: nonEmpty }),
]);

const REMEDY =
  'Set MONGODB_ATLAS_CLIENT_ID and MONGODB_ATLAS_CLIENT_SECRET (service account, recommended) or MONGODB_ATLAS_PUBLIC_API_KEY and MONGODB_ATLAS_PRIVATE_API_KEY, or put {"clientId","clientSecret"} in the secret named by atlas.credentialsSecretId.';

const fromEnvironment = (env: NodeJS.ProcessEnv): AtlasCredentials | undefined => {
  const pairs = [
    ['MONGODB_ATLAS_CLIENT_ID', 'MONGODB_ATLAS_CLIENT_SECRET'],
    ['MONGODB_ATLAS_PUBLIC_API_KEY', 'MONGODB_ATLAS_PRIVATE_API_KEY'],
  ] as const;
  for (const [idName, secretName] of pairs) {
    const id = env[idName]?.trim();
    const secret = env[secretName]?.trim();
    if (!id && !secret) continue;
    if (!id || !secret) {
      throw new CredentialsError(
        `${id ? secretName : idName} is not set but ${id ? idName : secretName} is`,
        REMEDY,
      );
    }
    return idName === 'MONGODB_ATLAS_CLIENT_ID'
      ? { kind: 'serviceAccount', clientId: id, clientSecret: secret }
      : { kind: 'apiKey', publicApiKey: id, privateApiKey: secret };
  }
  return undefined;
};

export const resolveAtlasCredentials = async (input: {
  env: NodeJS.ProcessEnv;
  secretId: string | undefined;
  secrets: SecretsManagerClient;
}): Promise<AtlasCredentials> => {
  const fromEnv = fromEnvironment(input.env);
  if (fromEnv) return fromEnv;
  if (!input.secretId) throw new CredentialsError('No Atlas credentials found', REMEDY);

  let text: string | undefined;
  try {
    const got = await input.secrets.send(
      new GetSecretValueCommand({ SecretId: input.secretId, VersionStage: 'AWSCURRENT' }),
    );
    text = got.SecretString;
  } catch (err) {
    // No region, no AWS credentials, no endpoint: say that, not that the Atlas one is missing.
    const wide = runWideError(err, { service: 'Secrets Manager', action: 'GetSecretValue' });
    if (wide) throw wide;
    const name = (err as { name?: string }).name ?? 'Error';
    throw new CredentialsError(
      `Cannot read the Atlas credentials secret ${input.secretId} (${name})`,
      REMEDY,
      name,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text ?? '');
  } catch {
    throw new CredentialsError(
      `The Atlas credentials secret ${input.secretId} is not JSON`,
      REMEDY,
    );
  }
  const parsed = credentialsSecretSchema.safeParse(json);
  if (!parsed.success) {
    throw new CredentialsError(
      `The Atlas credentials secret ${input.secretId} holds neither {"clientId","clientSecret"} nor {"publicApiKey","privateApiKey"}`,
      REMEDY,
    );
  }
  const value = parsed.data;
  return 'clientId' in value
    ? { kind: 'serviceAccount', clientId: value.clientId, clientSecret: value.clientSecret }
    : { kind: 'apiKey', publicApiKey: value.publicApiKey, privateApiKey: value.privateApiKey };
};
