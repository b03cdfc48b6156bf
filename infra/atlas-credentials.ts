import { RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ConfigError } from '../functions/domain/config/errors.js';
import { acknowledge } from './nag.js';
import type { SecretAccess } from './permissions.js';

/**
 * The rotator's Atlas credentials: given, imported from the ids the config names, or (for the
 * rotator's own) created empty for the operator to fill.
 */

/** A secret's ARN as policies need it: imported by name, the ARN ends in a random suffix. */
const arnPattern = (secret: secretsmanager.ISecret): string =>
  secret.secretFullArn ?? `${secret.secretArn}-??????`;

/** What a policy needs to read `secret`. */
export const secretAccess = (secret: secretsmanager.ISecret): SecretAccess => ({
  secretArn: arnPattern(secret),
  keyArn: secret.encryptionKey?.keyArn,
});

/**
 * How the shipped config names a secret: its complete ARN when known at synth, else its name
 * (imported by name). Tokens are refused later, by `deployedConfig`.
 */
const shippableId = (secret: secretsmanager.ISecret): string => {
  const full = secret.secretFullArn;
  return full && !Token.isUnresolved(full) ? full : secret.secretName;
};

/** Imports a secret the config names, by complete ARN, partial ARN or name. */
const importSecret = (scope: Construct, id: string, secretId: string): secretsmanager.ISecret => {
  if (!secretId.startsWith('arn:'))
    return secretsmanager.Secret.fromSecretNameV2(scope, id, secretId);
  // A complete ARN ends in `-` and six random characters; anything else is partial.
  return /-[A-Za-z0-9]{6}$/.test(secretId)
    ? secretsmanager.Secret.fromSecretCompleteArn(scope, id, secretId)
    : secretsmanager.Secret.fromSecretPartialArn(scope, id, secretId);
};

/** Refuses a credential under the certificate prefix: the rotate function could overwrite it. */
export const outsidePrefix = (
  field: string,
  secretId: string,
  secretNamePrefix: string,
  source?: string,
): string => {
  const name = secretId.startsWith('arn:') ? (secretId.split(':secret:')[1] ?? '') : secretId;
  if (name.startsWith(secretNamePrefix)) {
    throw new ConfigError(
      [
        `${field}: "${name}" lies under defaults.secretNamePrefix "${secretNamePrefix}", where the rotate function may write; keep credentials elsewhere`,
      ],
      source,
    );
  }
  return secretId;
};

export interface CredentialsSecretProps {
  /** The secret given as a construct prop, if any. */
  readonly given: secretsmanager.ISecret | undefined;
  /** The id the config names, if any. */
  readonly configuredId: string | undefined;
  readonly secretNamePrefix: string;
  readonly source: string | undefined;
}

export interface CredentialsSecret {
  readonly secret: secretsmanager.ISecret;
  /** What the shipped config names it by. */
  readonly shippedId: string;
  /** Set when the construct created it, for the operator to fill. */
  readonly createdName: string | undefined;
}

/**
 * The rotator's credential: given, imported, or created holding `{}` under `key`; created as a
 * managed external secret of `managedType` when Secrets Manager is to rotate it.
 */
export const rotatorCredentials = (
  scope: Construct,
  props: CredentialsSecretProps & {
    readonly namePrefix: string;
    readonly key: kms.IKey;
    readonly managedType?: string | undefined;
  },
): CredentialsSecret => {
  const field = 'atlas.credentialsSecretId';
  const existing =
    props.given ??
    (props.configuredId ? importSecret(scope, 'AtlasCredentials', props.configuredId) : undefined);
  if (existing) {
    const shippedId = outsidePrefix(
      field,
      shippableId(existing),
      props.secretNamePrefix,
      props.source,
    );
    return { secret: existing, shippedId, createdName: undefined };
  }
  const name = outsidePrefix(
    field,
    `${props.namePrefix}/atlas-credentials`,
    props.secretNamePrefix,
    props.source,
  );
  const created = new secretsmanager.Secret(scope, 'AtlasCredentials', {
    secretName: name,
    description: props.managedType
      ? `Atlas credential of atlas-x509-rotator, rotated by Secrets Manager (${props.managedType}): {"clientId","clientSecret","orgId"}`
      : 'Atlas credential of atlas-x509-rotator: {"clientId","clientSecret"} (service account) or {"publicApiKey","privateApiKey"}',
    encryptionKey: props.key,
    // Created without a credential: the operator puts it (docs/deploy.md). `{}` makes
    // the function report "holds neither ..." until then.
    secretObjectValue: {},
    // Like the key: a stack deletion must not lose the operator's credential. Redeploy
    // by naming it in atlas.credentialsSecretId.
    removalPolicy: RemovalPolicy.RETAIN,
  });
  if (props.managedType) {
    // A managed external secret: Secrets Manager rotates it without a Lambda function.
    (created.node.defaultChild as secretsmanager.CfnSecret).type = props.managedType;
  }
  acknowledge(
    created,
    'AwsSolutions-SMG4',
    props.managedType
      ? `Rotated by Secrets Manager's managed external secret rotation (type ${props.managedType}): its AWS::SecretsManager::RotationSchedule has ExternalSecretRotationRoleArn, not the rotation Lambda this rule looks for. Its expiry is alarmed on too (AtlasCredentialDaysToExpiry).`
      : 'The Atlas credential is issued by Atlas (service account secret or API key) and is rotated there by the operator; a Secrets Manager rotation function would need an Atlas Organization Owner credential. Its expiry is alarmed on (AtlasCredentialDaysToExpiry).',
  );
  return { secret: created, shippedId: name, createdName: name };
};

/** The disable operation's own credential, if it has one: given or imported, never created. */
export const disableCredentials = (
  scope: Construct,
  props: CredentialsSecretProps,
): Omit<CredentialsSecret, 'createdName'> | undefined => {
  const secret =
    props.given ??
    (props.configuredId
      ? importSecret(scope, 'DisableCredentials', props.configuredId)
      : undefined);
  if (!secret) return undefined;
  const shippedId = outsidePrefix(
    'atlas.disableCredentialsSecretId',
    shippableId(secret),
    props.secretNamePrefix,
    props.source,
  );
  return { secret, shippedId };
};
