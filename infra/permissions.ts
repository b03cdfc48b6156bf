import * as iam from 'aws-cdk-lib/aws-iam';
import {
  CREATION_TAG_KEYS,
  type DetailType,
  EVENT_SOURCE,
  MANAGED_BY_TAG,
  MANAGED_BY_VALUE,
  UPKEEP_TAG_KEYS,
} from '../functions/domain/names.js';

/**
 * The rotator's IAM statements, built from ARNs and names only (no construct, no stack), so
 * each grant can be unit-tested as it is written.
 */

export const ROTATE_EVENTS = [
  'Atlas X509 Certificate Rotated',
  'Atlas X509 Rotation Failed',
  'Atlas X509 Certificate Approaching Expiry',
] as const satisfies readonly DetailType[];
export const DISABLE_EVENTS = [
  'Atlas Customer X509 Disabled',
] as const satisfies readonly DetailType[];

/** A secret as a policy names it: its ARN (or pattern) and the key it is encrypted with, if any. */
export interface SecretAccess {
  readonly secretArn: string;
  readonly keyArn?: string | undefined;
}

/** Key use through Secrets Manager in `region` only, for the secrets `secretArn` matches. */
export const viaSecretsManager = (region: string, secretArn: string) => ({
  StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` },
  StringLike: { 'kms:EncryptionContext:SecretARN': secretArn },
});

/** Reads one secret: `Read<sid>`, plus `Decrypt<sid>` when it has its own key. */
export const readSecretStatements = (
  sid: string,
  secret: SecretAccess,
  region: string,
): iam.PolicyStatement[] => [
  new iam.PolicyStatement({
    sid: `Read${sid}`,
    actions: ['secretsmanager:GetSecretValue'],
    resources: [secret.secretArn],
  }),
  ...(secret.keyArn
    ? [
        new iam.PolicyStatement({
          sid: `Decrypt${sid}`,
          actions: ['kms:Decrypt'],
          resources: [secret.keyArn],
          conditions: viaSecretsManager(region, secret.secretArn),
        }),
      ]
    : []),
];

export const putEventsStatement = (
  eventBusArn: string,
  detailTypes: readonly DetailType[],
): iam.PolicyStatement =>
  new iam.PolicyStatement({
    sid: 'PutEventsOnDefaultBus',
    actions: ['events:PutEvents'],
    resources: [eventBusArn],
    // EventBridge authorizes each entry on its own source and detail type.
    conditions: {
      StringEquals: { 'events:source': EVENT_SOURCE, 'events:detail-type': [...detailTypes] },
    },
  });

/** What both functions reach: the Atlas credential they read and the bus they report on. */
export interface FunctionAccess {
  readonly region: string;
  readonly credentials: SecretAccess;
  readonly eventBusArn: string;
}

export interface RotateAccess extends FunctionAccess {
  /** `arn:…:secret:<secretNamePrefix>*` */
  readonly certificateSecretsArnPattern: string;
  readonly certificateKeyArn: string;
  readonly leaseTableArn: string;
  /** With replica Regions in the config: what replicating needs. */
  readonly replicas?: ReplicaAccess | undefined;
}

/** A replica Region and the key its replicas are encrypted with, as the config names it. */
export interface ReplicaKey {
  readonly region: string;
  /** Absent (or `alias/aws/secretsmanager`): that Region's AWS managed key. */
  readonly kmsKeyId: string | undefined;
}

export interface ReplicaAccess {
  /** Every (Region, key) pair any user's replicas use. */
  readonly keys: readonly ReplicaKey[];
  /** The certificate secrets' ARN pattern in a replica Region. */
  readonly secretsArnPatternIn: (region: string) => string;
  /** For keys named by id or alias name rather than ARN. */
  readonly partition: string;
  readonly account: string;
}

const AWS_MANAGED_ALIAS = 'alias/aws/secretsmanager';

/** No key, or aws/secretsmanager by name: that Region's AWS managed key. */
export const usesAwsManagedKey = (key: ReplicaKey): boolean =>
  key.kmsKeyId === undefined ||
  key.kmsKeyId === AWS_MANAGED_ALIAS ||
  key.kmsKeyId.endsWith(`:${AWS_MANAGED_ALIAS}`);

/**
 * The IAM resource (and condition) of a replica key. IAM cannot name a key by its alias, so a
 * key given as an alias is `key/*` in its Region, held to the keys carrying that alias
 * (`kms:ResourceAliases`). Undefined for the AWS managed key: its key policy already lets every
 * principal of the account use it through Secrets Manager.
 */
export const replicaKeyResource = (
  key: ReplicaKey,
  access: Pick<ReplicaAccess, 'partition' | 'account'>,
): { resource: string; alias?: string } | undefined => {
  const id = key.kmsKeyId;
  if (id === undefined || usesAwsManagedKey(key)) return undefined;
  const arn = /^arn:([^:]+):kms:([^:]+):(\d{12}):(key|alias)\/(.+)$/.exec(id);
  if (arn) {
    const [, partition, region, account, kind, rest] = arn;
    if (kind === 'key') return { resource: id };
    return { resource: `arn:${partition}:kms:${region}:${account}:key/*`, alias: `alias/${rest}` };
  }
  const inRegion = `arn:${access.partition}:kms:${key.region}:${access.account}`;
  if (id.startsWith('alias/')) return { resource: `${inRegion}:key/*`, alias: id };
  return { resource: `${inRegion}:key/${id}` };
};

/** `EuWest1` for `eu-west-1`: statement ids take letters and digits only. */
const sidPart = (region: string): string =>
  region
    .split('-')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');

/**
 * What replicating the certificate secrets needs, and nothing more: ReplicateSecretToRegions
 * (CreateSecret with AddReplicaRegions is authorized as it too) to the configured Regions only,
 * removing the replicas of an empty secret it created (before deleting it), and each customer
 * managed replica key, through Secrets Manager in its Region, for the certificate secrets there.
 */
export const replicaStatements = (
  access: ReplicaAccess,
  certificateSecretsArnPattern: string,
): iam.PolicyStatement[] => {
  const regions = [...new Set(access.keys.map((k) => k.region))].sort();
  if (regions.length === 0) return [];
  const seen = new Map<string, number>();
  const keyStatements = access.keys.flatMap((key) => {
    const target = replicaKeyResource(key, access);
    if (!target) return [];
    const n = (seen.get(key.region) ?? 0) + 1;
    seen.set(key.region, n);
    return [
      new iam.PolicyStatement({
        sid: `EncryptReplicas${sidPart(key.region)}${n > 1 ? n : ''}`,
        // Secrets Manager decrypts with the primary's key (EncryptCertificateSecrets) and
        // encrypts each replica with its own.
        actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
        resources: [target.resource],
        conditions: {
          ...viaSecretsManager(key.region, access.secretsArnPatternIn(key.region)),
          ...(target.alias
            ? { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': target.alias } }
            : {}),
        },
      }),
    ];
  });
  return [
    new iam.PolicyStatement({
      sid: 'ReplicateCertificateSecrets',
      actions: ['secretsmanager:ReplicateSecretToRegions'],
      resources: [certificateSecretsArnPattern],
      conditions: {
        'ForAllValues:StringEquals': { 'secretsmanager:AddReplicaRegions': regions },
        // Never over a same-named secret in a replica Region: someone else's. The request must
        // say false (a request without the key is refused too); the code always sends it.
        // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html#awssecretsmanager-policy-keys
        Bool: { 'secretsmanager:ForceOverwriteReplicaSecret': 'false' },
      },
    }),
    new iam.PolicyStatement({
      sid: 'UnreplicateOwnEmptySecrets',
      actions: ['secretsmanager:RemoveRegionsFromReplication'],
      resources: [certificateSecretsArnPattern],
      conditions: {
        StringEquals: { [`secretsmanager:ResourceTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE },
      },
    }),
    ...keyStatements,
  ];
};

/** The managed-by tag, as a request tag and as a resource tag. */
const MANAGED_BY_REQUEST_TAG = `aws:RequestTag/${MANAGED_BY_TAG}`;
const MANAGED_BY_RESOURCE_TAG = `aws:ResourceTag/${MANAGED_BY_TAG}`;

/**
 * Creating a certificate secret, carrying the managed-by tag (the only call that may set it).
 * CreateSecret with Tags is authorized as TagResource too (and with AddReplicaRegions as
 * ReplicateSecretToRegions), on the new secret:
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html and
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssecretsmanager.html
 * (its API operations table). IAM must tell that TagResource from a TagResource call on an
 * existing secret, which would let the role mark another tool's secret as its own and then
 * delete it. Either of two facts tells them apart, and neither holds for a TagResource call
 * on an existing secret without the tag:
 * - on a create, the new secret's tags are those of the request (`aws:ResourceTag`), the way
 *   the IAM ABAC tutorial's single `aws:ResourceTag` statement lets a user create a tagged
 *   secret: https://docs.aws.amazon.com/IAM/latest/UserGuide/tutorial_attribute-based-access-control.html;
 * - a create names no existing secret: `secretsmanager:SecretId` (a required parameter of
 *   TagResource) is absent.
 */
const createStatements = (pattern: string): iam.PolicyStatement[] => {
  const creating = {
    StringEquals: { [MANAGED_BY_REQUEST_TAG]: MANAGED_BY_VALUE },
    'ForAllValues:StringEquals': { 'aws:TagKeys': [...CREATION_TAG_KEYS] },
    BoolIfExists: { 'secretsmanager:ForceOverwriteReplicaSecret': 'false' },
  };
  const actions = ['secretsmanager:CreateSecret', 'secretsmanager:TagResource'];
  return [
    new iam.PolicyStatement({
      sid: 'CreateOwnSecrets',
      actions,
      resources: [pattern],
      conditions: {
        ...creating,
        StringEquals: { ...creating.StringEquals, [MANAGED_BY_RESOURCE_TAG]: MANAGED_BY_VALUE },
      },
    }),
    new iam.PolicyStatement({
      sid: 'CreateOwnSecretsNamingNone',
      actions,
      resources: [pattern],
      conditions: { ...creating, Null: { 'secretsmanager:SecretId': 'true' } },
    }),
  ];
};

export const rotateStatements = (access: RotateAccess): iam.PolicyStatement[] => [
  new iam.PolicyStatement({
    sid: 'ManageCertificateSecrets',
    actions: [
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
      // The consumers' read policy: read back to find drift, removed when the project's
      // consumers are removed (put: PutConsumersPolicy).
      'secretsmanager:GetResourcePolicy',
      'secretsmanager:DeleteResourcePolicy',
    ],
    resources: [access.certificateSecretsArnPattern],
  }),
  ...createStatements(access.certificateSecretsArnPattern),
  new iam.PolicyStatement({
    sid: 'TagCertificateSecrets',
    // The tags each run keeps (expiry, policy, replicas, orphans, forced requests), never the
    // managed-by tag: https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_iam-permissions.html
    actions: ['secretsmanager:TagResource'],
    resources: [access.certificateSecretsArnPattern],
    conditions: { 'ForAllValues:StringEquals': { 'aws:TagKeys': [...UPKEEP_TAG_KEYS] } },
  }),
  new iam.PolicyStatement({
    sid: 'PutConsumersPolicy',
    // Put on each new secret, and again when it drifted; a policy granting broad access is
    // refused by Secrets Manager, and IAM refuses a put that does not ask it to:
    // https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutResourcePolicy.html
    actions: ['secretsmanager:PutResourcePolicy'],
    resources: [access.certificateSecretsArnPattern],
    conditions: { Bool: { 'secretsmanager:BlockPublicPolicy': 'true' } },
  }),
  new iam.PolicyStatement({
    sid: 'DeleteOwnEmptySecrets',
    // After Atlas refused a first mint, the empty secret the function just created goes at
    // once (it checks no version exists first); IAM holds it to secrets carrying its own tag,
    // which only CreateSecret can set (above).
    actions: ['secretsmanager:DeleteSecret', 'secretsmanager:ListSecretVersionIds'],
    resources: [access.certificateSecretsArnPattern],
    conditions: {
      StringEquals: { [`secretsmanager:ResourceTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE },
    },
  }),
  new iam.PolicyStatement({
    sid: 'IndexCertificateSecrets',
    // Planning reads the metadata of every secret under the prefix, 100 per call
    // (the function filters by name).
    actions: ['secretsmanager:ListSecrets'],
    resources: ['*'],
  }),
  new iam.PolicyStatement({
    sid: 'EncryptCertificateSecrets',
    actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
    resources: [access.certificateKeyArn],
    conditions: viaSecretsManager(access.region, access.certificateSecretsArnPattern),
  }),
  ...readSecretStatements('AtlasCredentials', access.credentials, access.region),
  new iam.PolicyStatement({
    sid: 'Leases',
    // GetItem: the catch-up note (functions/domain/rotation/catch-up.ts).
    actions: [
      'dynamodb:DescribeTable',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
    ],
    resources: [access.leaseTableArn],
  }),
  putEventsStatement(access.eventBusArn, ROTATE_EVENTS),
  ...(access.replicas
    ? replicaStatements(access.replicas, access.certificateSecretsArnPattern)
    : []),
];

export const disableStatements = (access: FunctionAccess): iam.PolicyStatement[] => [
  ...readSecretStatements('AtlasCredentials', access.credentials, access.region),
  putEventsStatement(access.eventBusArn, DISABLE_EVENTS),
];

/** Key policy: consumers decrypt certificate secrets through Secrets Manager only. */
export const consumersDecryptStatement = (
  principalArns: readonly string[],
  region: string,
  certificateSecretsArnPattern: string,
): iam.PolicyStatement =>
  new iam.PolicyStatement({
    sid: 'ConsumersDecryptCertificatesViaSecretsManager',
    principals: principalArns.map((arn) => new iam.ArnPrincipal(arn)),
    actions: ['kms:Decrypt'],
    resources: ['*'],
    // Certificate secrets only, never the credentials secret under the same key.
    conditions: viaSecretsManager(region, certificateSecretsArnPattern),
  });

/**
 * Key policy of the alarm topic's key. Alarms cannot publish to a topic under the AWS managed
 * SNS key: CloudWatch must be allowed to use this one.
 */
export const alarmsPublishStatement = (): iam.PolicyStatement =>
  new iam.PolicyStatement({
    sid: 'CloudWatchAlarmsPublish',
    principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
    actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    resources: ['*'],
  });

/**
 * Key policy of every key the stack creates: grants on it only for AWS resources or from AWS
 * services (Control Tower CT.KMS.PR.3). Nothing here creates a grant any other way.
 */
export const grantsForAwsServicesOnlyStatement = (): iam.PolicyStatement =>
  new iam.PolicyStatement({
    sid: 'DenyGrantsOutsideAwsServices',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    resources: ['*'],
    conditions: {
      BoolIfExists: {
        'kms:GrantIsForAWSResource': 'false',
        'aws:PrincipalIsAWSService': 'false',
      },
    },
  });
