import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { NOT_AFTER_TAG } from '../../functions/adapters/aws/secret-store/tags.js';
import {
  type StoredCertificate,
  serializeStored,
  storedCertificateSchema,
  versionIdFor,
} from '../../functions/domain/stored-value.js';

/**
 * Test-side helpers for moto_server, through the real SDK. Clients read the SDK's standard
 * endpoint variables, which the test setup points at moto.
 */

export const sm = (): SecretsManagerClient => new SecretsManagerClient({});
export const ddb = (): DynamoDBClient => new DynamoDBClient({});

/** Creates a lease table like the stack's: partition key `pk` (string), on demand. */
export const createLeaseTable = async (tableName: string): Promise<void> => {
  await ddb().send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
};

export interface SeedCertificate {
  certificate: string;
  privateKey: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}

/** Stores a certificate the way the rotator does, as the secret's first (current) version. */
export const seedSecret = async (
  name: string,
  owner: { projectId: string; username: string },
  cert: SeedCertificate,
): Promise<void> => {
  await sm().send(
    new CreateSecretCommand({
      Name: name,
      SecretString: serializeStored(owner, { ...cert, pem: cert.certificate + cert.privateKey }),
      ClientRequestToken: versionIdFor(cert.serialNumber),
      Tags: [{ Key: NOT_AFTER_TAG, Value: cert.notAfter.toISOString() }],
    }),
  );
};

export interface SecretView {
  stages: Record<string, string[]>;
  current: StoredCertificate;
  /** Versions that carry a label, oldest first is not guaranteed. */
  versionCount: number;
}

/** The secret's labels and parsed current value (read with an explicit stage: see moto gaps). */
export const readSecret = async (name: string): Promise<SecretView> => {
  const described = await sm().send(new DescribeSecretCommand({ SecretId: name }));
  const got = await sm().send(
    new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' }),
  );
  const versions = await sm().send(
    new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }),
  );
  return {
    stages: described.VersionIdsToStages ?? {},
    current: storedCertificateSchema.parse(JSON.parse(got.SecretString ?? '')),
    versionCount: versions.Versions?.length ?? 0,
  };
};

export const secretExists = async (name: string): Promise<boolean> => {
  try {
    await sm().send(new DescribeSecretCommand({ SecretId: name }));
    return true;
  } catch {
    return false;
  }
};
