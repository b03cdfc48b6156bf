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
  constructor(
    message: string,
    remedy: string,
    cause?: unknown,
    code:
      | 'ATLAS_CREDENTIALS_MISSING'
      | 'ATLAS_CREDENTIALS_ORG_MISMATCH' = 'ATLAS_CREDENTIALS_MISSING',
  ) {
    super(message, { code, remedy, scope: 'run', cause });
    this.name = 'CredentialsError';
  }
}

const nonEmpty = z.string().trim().min(1);
const ORG_ID = /^[a-f0-9]{24}$/;

/**
 * The credentials secret's JSON: a service account (recommended; `orgId` as Secrets Manager's
 * managed type `MongoDBAtlasServiceAccount` holds it, optional otherwise) or a legacy API key.
 * Other keys are ignored.
 */
const credentialsSecretSchema = z.union([
  z.object({
    clientId: nonEmpty,
    clientSecret: nonEmpty,
    orgId: z.string().trim().toLowerCase().regex(ORG_ID).optional(),
  }),
  z.object({ publicApiKey: nonEmpty, privateApiKey: nonEmpty }),
]);

const REMEDY =
  'Set MONGODB_ATLAS_CLIENT_ID and MONGODB_ATLAS_CLIENT_SECRET (service account, recommended) or MONGODB_ATLAS_PUBLIC_API_KEY and MONGODB_ATLAS_PRIVATE_API_KEY, or put {"clientId","clientSecret","orgId"} (a service account) in the secret named by atlas.credentialsSecretId.';

/** For a secret that exists but holds nothing yet: a managed secret before its first value. */
const emptyRemedy = (secretId: string): string =>
  `Put {"clientId":"mdb_sa_id_…","clientSecret":"mdb_sa_sk_…","orgId":"<24-hex organization id>"} in ${secretId} (aws secretsmanager put-secret-value, docs/deploy.md), before the next run and before Secrets Manager first rotates it.`;

const SERVICE_ACCOUNT_FIELDS = ['clientId', 'clientSecret'] as const;
const API_KEY_FIELDS = ['publicApiKey', 'privateApiKey'] as const;

/** What is wrong with a value the schema refused, naming fields only, never a value. */
const whatIsWrong = (json: unknown): string => {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return 'is not a JSON object';
  }
  const filled = (key: string): boolean => {
    const value: unknown = Reflect.get(json, key);
    return typeof value === 'string' && value.trim() !== '';
  };
  const lacking = (keys: readonly string[]): string[] => keys.filter((key) => !filled(key));
  if (Object.keys(json).length === 0) return 'is empty ({}): no credential was put in it yet';
  if ([...SERVICE_ACCOUNT_FIELDS, 'orgId'].some((key) => key in json)) {
    const missing = lacking(SERVICE_ACCOUNT_FIELDS);
    return missing.length > 0
      ? `lacks ${missing.join(' and ')} of {"clientId","clientSecret","orgId"}`
      : 'has an orgId that is not a 24-hex Atlas organization id';
  }
  if (API_KEY_FIELDS.some((key) => key in json)) {
    return `lacks ${lacking(API_KEY_FIELDS).join(' and ')} of {"publicApiKey","privateApiKey"}`;
  }
  return 'holds neither {"clientId","clientSecret","orgId"} nor {"publicApiKey","privateApiKey"}';
};

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

export interface CredentialsInput {
  env: NodeJS.ProcessEnv;
  secretId: string | undefined;
  secrets: SecretsManagerClient;
  /** The config's `atlas.organizationId`: a secret naming another organization is refused. */
  organizationId?: string | undefined;
}

/** The secret's current value, read now (never cached: Secrets Manager may rotate it). */
const readSecret = async (
  input: CredentialsInput & { secretId: string },
  abortSignal?: AbortSignal,
): Promise<AtlasCredentials> => {
  const { secretId } = input;
  let text: string | undefined;
  try {
    // A re-read mid-run stops with the run's time (the client alone allows 8 × 13 s).
    const got = await input.secrets.send(
      new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }),
      abortSignal ? { abortSignal } : {},
    );
    text = got.SecretString;
  } catch (err) {
    // No region, no AWS credentials, no endpoint: say that, not that the Atlas one is missing.
    const wide = runWideError(err, { service: 'Secrets Manager', action: 'GetSecretValue' });
    if (wide) throw wide;
    const name = (err as { name?: string }).name ?? 'Error';
    throw new CredentialsError(
      `Cannot read the Atlas credentials secret ${secretId} (${name})`,
      REMEDY,
      name,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text ?? '');
  } catch {
    throw new CredentialsError(`The Atlas credentials secret ${secretId} is not JSON`, REMEDY);
  }
  const parsed = credentialsSecretSchema.safeParse(json);
  if (!parsed.success) {
    const wrong = whatIsWrong(json);
    throw new CredentialsError(
      `The Atlas credentials secret ${secretId} ${wrong}`,
      wrong.startsWith('is empty') ? emptyRemedy(secretId) : REMEDY,
    );
  }
  const value = parsed.data;
  if (!('clientId' in value)) {
    return { kind: 'apiKey', publicApiKey: value.publicApiKey, privateApiKey: value.privateApiKey };
  }
  const configured = input.organizationId?.toLowerCase();
  if (configured && value.orgId && value.orgId !== configured) {
    throw new CredentialsError(
      `The Atlas credentials secret ${secretId} is for organization ${value.orgId}, but atlas.organizationId is ${configured}`,
      "Set atlas.organizationId to the service account's organization (or remove it: the secret's orgId is used), or put a service account of that organization in the secret.",
      undefined,
      'ATLAS_CREDENTIALS_ORG_MISMATCH',
    );
  }
  return {
    kind: 'serviceAccount',
    clientId: value.clientId,
    clientSecret: value.clientSecret,
    ...(value.orgId ? { orgId: value.orgId } : {}),
  };
};

/** A run's credential, and how to read it again if it came from the secret. */
export interface CredentialSource {
  readonly credentials: AtlasCredentials;
  /**
   * Reads the secret's current value again, stopping when `abortSignal` fires; undefined for a
   * credential from the environment.
   */
  readonly reread:
    | ((bound?: { abortSignal?: AbortSignal }) => Promise<AtlasCredentials>)
    | undefined;
}

export const atlasCredentialSource = async (input: CredentialsInput): Promise<CredentialSource> => {
  const fromEnv = fromEnvironment(input.env);
  if (fromEnv) return { credentials: fromEnv, reread: undefined };
  const { secretId } = input;
  if (!secretId) throw new CredentialsError('No Atlas credentials found', REMEDY);
  const reread = (bound: { abortSignal?: AbortSignal } = {}) =>
    readSecret({ ...input, secretId }, bound.abortSignal);
  return { credentials: await reread(), reread };
};

export const resolveAtlasCredentials = async (input: CredentialsInput): Promise<AtlasCredentials> =>
  (await atlasCredentialSource(input)).credentials;
