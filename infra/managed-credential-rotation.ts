import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ConfigError } from '../functions/domain/config/errors.js';
import { outsidePrefix, secretAccess } from './atlas-credentials.js';
import { acknowledge } from './nag.js';
import { readSecretStatements, type SecretAccess, viaSecretsManager } from './permissions.js';

/**
 * The rotator's own Atlas credential rotated by Secrets Manager itself: a managed external
 * secret of the partner type `MongoDBAtlasServiceAccount`, its rotation schedule and the role
 * Secrets Manager rotates it with (AWS's user guide: mes-partner-MongoDBAtlasServiceAccount and
 * mes-security). A rotation creates a new secret for the service account in Atlas, checks it
 * with an OAuth token, stores it as AWSCURRENT and deletes the old one; each run of the rotator
 * reads the secret afresh, and once more if Atlas rejects the value it started with.
 */

/** The managed external secret type (`Type` of `AWS::SecretsManager::Secret`). */
export const MANAGED_SECRET_TYPE = 'MongoDBAtlasServiceAccount';
/** The Atlas Admin API version the rotation calls with; pinned, as the rotator pins its own. */
export const DEFAULT_API_VERSION = '2025-03-12';
const DEFAULT_EVERY = Duration.days(30);

export interface CredentialRotationProps {
  /**
   * The secret holding `{"clientId","clientSecret"}` of an admin service account that may
   * create and delete the rotator's service account secrets (admin-assisted rotation, the
   * default). Import it by its complete ARN (`Secret.fromSecretCompleteArn`): the rotation
   * metadata names it exactly. Keep it outside the certificate prefix.
   * @default - none: required unless `selfRotation` is true
   */
  readonly adminSecret?: secretsmanager.ISecret;
  /**
   * The service account rotates its own secret with its own credential. That needs a role in
   * Atlas that may manage the organization's service accounts (Organization Owner): far more
   * than rotating certificates needs. An explicit choice only.
   * @default false
   */
  readonly selfRotation?: boolean;
  /**
   * How often Secrets Manager rotates, whole days, 1 to 365. Keep it below the lifetime Atlas
   * gives the secrets it creates, minus `credentialWarningDays`, or the expiry alarm fires first.
   * @default Duration.days(30)
   */
  readonly every?: Duration;
  /**
   * The Atlas Admin API version (`yyyy-mm-dd`) the rotation calls with (metadata `apiVersion`).
   * @default '2025-03-12'
   */
  readonly apiVersion?: string;
}

const SOURCE = 'the credentialRotation property';
const refuse = (issue: string): never => {
  throw new ConfigError([`credentialRotation: ${issue}`], SOURCE);
};

/** Whole days of `every`, refused unless 1 to 365. */
const rotationDays = (every: Duration): number => {
  let days: number | undefined;
  try {
    days = every.toDays({ integral: true });
  } catch {
    days = undefined;
  }
  if (days === undefined || days < 1 || days > 365) {
    refuse(`every must be whole days, 1 to 365 (Atlas secrets live at most a year), got ${every}`);
  }
  return days as number;
};

/**
 * Refuses a rotation that cannot work, before anything is created: admin-assisted rotation
 * without an admin secret (self-rotation must be asked for), both at once, an admin secret
 * named by name only or lying under the certificate prefix, a bad interval or API version.
 */
export const checkCredentialRotation = (
  props: CredentialRotationProps | undefined,
  secretNamePrefix: string,
): void => {
  if (!props) return;
  const { adminSecret, selfRotation } = props;
  if (selfRotation && adminSecret) {
    refuse('give adminSecret (admin-assisted rotation) or selfRotation: true, not both');
  }
  if (!selfRotation && !adminSecret) {
    refuse(
      "admin-assisted rotation (the default) needs adminSecret, the secret of an Atlas service account that may manage the rotator's service account secrets; pass selfRotation: true to have the account rotate itself (it then needs Organization Owner)",
    );
  }
  if (adminSecret) {
    const arn = adminSecret.secretFullArn;
    if (arn === undefined) {
      refuse(
        'adminSecret: import it by its complete ARN (Secret.fromSecretCompleteArn), so the rotation metadata names it exactly',
      );
    }
    // The rotate function may write under the prefix: it must not reach the admin credential.
    if (arn !== undefined && !Token.isUnresolved(arn)) {
      outsidePrefix('credentialRotation.adminSecret', arn, secretNamePrefix, SOURCE);
    }
  }
  rotationDays(props.every ?? DEFAULT_EVERY);
  if (props.apiVersion !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(props.apiVersion)) {
    refuse(`apiVersion must be a date, yyyy-mm-dd, got ${JSON.stringify(props.apiVersion)}`);
  }
};

export interface CredentialRotationAccess {
  readonly region: string;
  /** The credentials secret (and its key, if it has its own). */
  readonly credentials: SecretAccess;
  /** The admin secret, for admin-assisted rotation. */
  readonly admin?: SecretAccess | undefined;
}

/**
 * What Secrets Manager needs to rotate the secret, scoped to it: AWS's example permissions
 * policy for managed external secrets, with the secret's ARN for its `*`, the key statement its
 * customer managed key needs, and read access to the admin secret.
 */
export const credentialRotationStatements = (
  access: CredentialRotationAccess,
): iam.PolicyStatement[] => [
  new iam.PolicyStatement({
    sid: 'RotateAtlasCredentials',
    actions: [
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
    ],
    resources: [access.credentials.secretArn],
    conditions: { StringEquals: { 'secretsmanager:resource/Type': MANAGED_SECRET_TYPE } },
  }),
  ...(access.credentials.keyArn
    ? [
        new iam.PolicyStatement({
          sid: 'EncryptAtlasCredentials',
          // Reading the current value decrypts it; storing the new one needs a data key.
          actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
          resources: [access.credentials.keyArn],
          conditions: viaSecretsManager(access.region, access.credentials.secretArn),
        }),
      ]
    : []),
  ...(access.admin
    ? readSecretStatements('RotationAdminCredentials', access.admin, access.region)
    : []),
  new iam.PolicyStatement({
    sid: 'GenerateRandomPasswords',
    // In AWS's example policy for every partner; it reads and writes no resource.
    actions: ['secretsmanager:GetRandomPassword'],
    resources: ['*'],
  }),
];

export interface ManagedCredentialRotation {
  /** The role Secrets Manager rotates the credentials secret with. */
  readonly role: iam.Role;
  readonly schedule: secretsmanager.CfnRotationSchedule;
}

/**
 * The rotation schedule of `secret` (already of type `MongoDBAtlasServiceAccount`) and its role.
 * The schedule never rotates on deployment (`RotateImmediatelyOnUpdate: false`): the secret
 * holds `{}` until the operator puts the first value, and the first rotation is due `every`
 * later.
 */
export const managedCredentialRotation = (
  scope: Construct,
  props: CredentialRotationProps & { readonly secret: secretsmanager.ISecret },
): ManagedCredentialRotation => {
  const stack = Stack.of(scope);
  const { secret, adminSecret } = props;
  if (adminSecret && adminSecret === secret) {
    refuse('adminSecret is the credentials secret itself; use selfRotation: true for that');
  }
  const credentials = secretAccess(secret);
  const role = new iam.Role(scope, 'AtlasCredentialsRotationRole', {
    description:
      'Secrets Manager rotates the atlas-x509-rotator Atlas credential (MongoDBAtlasServiceAccount) with this role',
    // Secrets Manager, for this account's credentials secret only (confused deputy).
    assumedBy: new iam.ServicePrincipal('secretsmanager.amazonaws.com').withConditions({
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: { 'aws:SourceArn': credentials.secretArn },
    }),
    inlinePolicies: {
      RotateAtlasCredentials: new iam.PolicyDocument({
        statements: credentialRotationStatements({
          region: stack.region,
          credentials,
          admin: adminSecret ? secretAccess(adminSecret) : undefined,
        }),
      }),
    },
  });
  acknowledge(
    role,
    'AwsSolutions-IAM5[Resource::*]',
    "secretsmanager:GetRandomPassword, in AWS's example rotation policy for managed external secrets, acts on no resource and cannot be scoped; every other action is scoped to the credentials secret, its key and the admin secret.",
  );
  const metadata = [
    ...(adminSecret ? [{ key: 'adminSecretArn', value: adminSecret.secretFullArn as string }] : []),
    { key: 'apiVersion', value: props.apiVersion ?? DEFAULT_API_VERSION },
  ];
  const schedule = new secretsmanager.CfnRotationSchedule(scope, 'AtlasCredentialsRotation', {
    // The secret's own reference for one the construct created, so the dependency is explicit.
    secretId: secret.secretFullArn ?? secret.secretName,
    rotationRules: { automaticallyAfterDays: rotationDays(props.every ?? DEFAULT_EVERY) },
    rotateImmediatelyOnUpdate: false,
    externalSecretRotationRoleArn: role.roleArn,
    externalSecretRotationMetadata: metadata,
  });
  return { role, schedule };
};
