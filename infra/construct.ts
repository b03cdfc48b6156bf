import { ArnFormat, Duration, Names, RemovalPolicy, Stack, TimeZone, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ConfigError,
  parseConfig,
  type RawConfig,
  type RotatorConfig,
} from '../functions/domain/config.js';
import { consumersFromEnv } from '../functions/domain/consumers.js';
import {
  type DetailType,
  EVENT_SOURCE,
  METRICS_NAMESPACE,
  type MetricName,
  SERVICE_NAME,
} from '../functions/domain/names.js';
import { MIN_ROTATE_TIMEOUT_SECONDS } from '../functions/domain/timing.js';
import { deployedConfig, requireSecretNamePrefix } from './config.js';
import { acknowledge, wildcardResourceFinding } from './nag.js';
import { RotatorFunction } from './rotator-function.js';

/** Consumers of the certificate secrets: Atlas project id → IAM principal ARNs that may read them. */
export type Consumers = Readonly<Record<string, readonly string[]>>;

export interface AtlasX509RotationProps {
  /**
   * The rotation config, as in the JSON file (`RawConfig`). It is validated at synth time with
   * the functions' own schema and ships beside each handler as `rotation.config.json`, with
   * the values this construct owns overwritten: `locks.tableName`, `defaults.kmsKeyId`,
   * `atlas.credentialsSecretId` and `atlas.disableCredentialsSecretId`.
   */
  readonly config: RawConfig;
  /**
   * Where the config came from, named in validation errors.
   * @default - errors name no file
   */
  readonly configSource?: string;
  /**
   * The Atlas credential of the rotator (`{"clientId","clientSecret"}` for a service account,
   * recommended, or `{"publicApiKey","privateApiKey"}`). Import it with
   * `Secret.fromSecretNameV2` or `Secret.fromSecretCompleteArn`: its id must be known at synth.
   * If it is encrypted with a customer managed key, import it with `fromSecretAttributes` and
   * its `encryptionKey`, so the functions may decrypt it.
   * @default - the secret the config's `atlas.credentialsSecretId` names; without one, a new
   * secret holding `{}`, encrypted with this construct's key, retained on deletion, for the
   * operator to fill
   */
  readonly credentialsSecret?: secretsmanager.ISecret;
  /**
   * A separate Atlas credential for the disable operation (it needs Project Owner), so the
   * scheduled rotator can run with a lesser role.
   * @default - the secret the config's `atlas.disableCredentialsSecretId` names; without one,
   * the rotator's credential
   */
  readonly disableCredentialsSecret?: secretsmanager.ISecret;
  /**
   * Who may read each project's certificate secrets: `{ "<projectId>": ["<principal ARN>"] }`.
   * Principals may be in other accounts. The function puts a resource policy granting them
   * `GetSecretValue` on each secret it creates (`ROTATOR_CONSUMERS`), and the key policy lets
   * them decrypt through Secrets Manager only. Their own IAM policies must allow the same
   * (`secretsmanager:GetSecretValue` on the secret, `kms:Decrypt` on the key).
   * @default - no consumers: only principals of this account granted by IAM
   */
  readonly consumers?: Consumers;
  /**
   * When the rotation runs. Time zones follow daylight saving time.
   * @default - daily at 03:00 UTC: `cron(0 3 * * ? *)`
   */
  readonly schedule?: scheduler.ScheduleExpression;
  /**
   * Lets Scheduler start a run up to this long after the scheduled time, spreading load.
   * `Duration.minutes(0)` turns the window off.
   * @default Duration.minutes(15)
   */
  readonly scheduleWindow?: Duration;
  /**
   * Whether the schedule is enabled (disable it to deploy and test manually first).
   * @default true
   */
  readonly scheduleEnabled?: boolean;
  /**
   * The rotate function's timeout. A run's work ends `REPORT_RESERVE_MS` (10 s) before it, and
   * a certificate create starts only with time for itself and its key's store. At least
   * `MIN_ROTATE_TIMEOUT_SECONDS` (90 s); at most the config's `locks.leaseSeconds`, or a live
   * run's lease could lapse.
   * @default Duration.minutes(10)
   */
  readonly timeout?: Duration;
  /**
   * The rotate function's memory (and so CPU) in MB.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Retention of the functions' logs (run reports, disable audit records).
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Alarm when a covered certificate has fewer days left than this (`MinDaysToExpiry`).
   * @default - the config's `rotation.criticalDays` (7 unless set)
   */
  readonly criticalDays?: number;
  /**
   * Alarm when the rotator's own Atlas credential has fewer days left than this
   * (`AtlasCredentialDaysToExpiry`, reported when the config names `atlas.organizationId`
   * and the credential is a service account).
   * @default 14
   */
  readonly credentialWarningDays?: number;
  /**
   * Alarm when no run has completed for this long (the `RunCompleted` heartbeat), whole
   * hours, at most 7 days. Match it to the schedule.
   * @default Duration.hours(26): a daily schedule plus its window and a slow run
   */
  readonly heartbeat?: Duration;
  /**
   * An email address subscribed to the alarm topic (the recipient must confirm).
   * @default - no subscription
   */
  readonly alarmEmail?: string;
  /**
   * Runs the functions in a new VPC whose single NAT gateway has an Elastic IP, so that
   * Atlas sees one fixed address: add it to the Atlas API access list (`egressIp`).
   * @default false
   */
  readonly staticEgressIp?: boolean;
  /**
   * Runs the functions in this existing VPC instead; its NAT addresses are what Atlas sees.
   * Cannot be combined with `staticEgressIp`.
   * @default - no VPC
   */
  readonly vpc?: ec2.IVpc;
  /**
   * Subnets of `vpc` for the functions; they need a route to the internet.
   * @default - the VPC's private subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Deploys the guarded, manual-only function that disables customer-managed X.509 on a
   * configured project.
   * @default true
   */
  readonly includeDisableFunction?: boolean;
  /**
   * Prefix of the physical names this construct gives (lease table, key alias, credentials
   * secret, alarms, dashboard). Letters, digits, `-` and `_`, at most 64.
   * @default - derived from the construct path, unique in the app
   */
  readonly namePrefix?: string;
}

const DEFAULT_SCHEDULE = 'cron(0 3 * * ? *)';
const ROTATE_EVENTS = [
  'Atlas X509 Certificate Rotated',
  'Atlas X509 Rotation Failed',
  'Atlas X509 Certificate Approaching Expiry',
] as const satisfies readonly DetailType[];
const DISABLE_EVENTS = ['Atlas Customer X509 Disabled'] as const satisfies readonly DetailType[];

/** A secret's ARN as policies need it: imported by name, the ARN ends in a random suffix. */
const arnPattern = (secret: secretsmanager.ISecret): string =>
  secret.secretFullArn ?? `${secret.secretArn}-??????`;

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

/**
 * Rotates MongoDB Atlas X.509 database-user certificates into Secrets Manager on a schedule.
 *
 * Creates the rotate function (and the manual disable function) with least-privilege roles,
 * an EventBridge Scheduler schedule with a dead-letter queue, the DynamoDB lease table, the
 * customer managed key the certificate secrets are encrypted with (retained on deletion),
 * alarms on an encrypted SNS topic and a dashboard. Holds no rotation logic: that is in
 * `functions/`, configured by the same config file.
 *
 * @example
 * new AtlasX509Rotation(this, 'Rotation', {
 *   config: { projects: [{ projectId: '5e2211c17a3e5a48f5497de3', users: ['app1'] }] },
 *   consumers: { '5e2211c17a3e5a48f5497de3': ['arn:aws:iam::111122223333:role/app1'] },
 *   alarmEmail: 'oncall@example.com',
 * });
 */
export class AtlasX509Rotation extends Construct {
  /** The scheduled rotate function. */
  readonly rotateFunction: lambda.IFunction;
  /** The manual disable function, unless `includeDisableFunction` is false. */
  readonly disableFunction: lambda.IFunction | undefined;
  /** Encrypts the certificate secrets (and a created credentials secret). Retained on deletion. */
  readonly key: kms.Key;
  /** The per-user lease table. */
  readonly leaseTable: dynamodb.Table;
  /** The rotator's Atlas credential. */
  readonly credentialsSecret: secretsmanager.ISecret;
  /** The secret name to fill when the construct created the credentials secret. */
  readonly createdCredentialsSecretName: string | undefined;
  /** Failed schedule deliveries and failed asynchronous invocations land here. */
  readonly failureQueue: sqs.Queue;
  readonly schedule: scheduler.Schedule;
  /** Every alarm notifies this topic. */
  readonly alarmTopic: sns.Topic;
  readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  readonly dashboard: cloudwatch.Dashboard;
  /** The VPC the functions run in, if any. */
  readonly vpc: ec2.IVpc | undefined;
  /** The Elastic IP address Atlas sees, with `staticEgressIp`. */
  readonly egressIp: string | undefined;
  /** What ships as `rotation.config.json`: the given config with the owned values overwritten. */
  readonly shippedConfig: RawConfig;
  /** The shipped config as the functions see it, defaults applied. */
  readonly deployedConfig: RotatorConfig;
  /** The certificate secrets' ARN pattern, `arn:…:secret:<secretNamePrefix>*`. */
  readonly certificateSecretsArnPattern: string;

  constructor(scope: Construct, id: string, props: AtlasX509RotationProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const source = props.configSource;

    // Fail on the user's own config first, so its errors name the user's fields.
    const given = parseConfig(props.config, source);
    const secretNamePrefix = requireSecretNamePrefix(given, source);
    const namePrefix =
      props.namePrefix ?? Names.uniqueResourceName(this, { maxLength: 64, separator: '-' });
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(namePrefix)) {
      throw new Error(`namePrefix "${namePrefix}": use 1-64 letters, digits, "-" or "_"`);
    }
    const timeout = props.timeout ?? Duration.minutes(10);
    if (timeout.toSeconds() < MIN_ROTATE_TIMEOUT_SECONDS) {
      throw new Error(
        `timeout (${timeout.toSeconds()} s) is too short to ever mint: a run needs at least ${MIN_ROTATE_TIMEOUT_SECONDS} s (its report, a user's reads and lease, one certificate create and the store of its key). Raise timeout to Duration.seconds(${MIN_ROTATE_TIMEOUT_SECONDS}) or more.`,
      );
    }
    if (timeout.toSeconds() > given.locks.leaseSeconds) {
      throw new Error(
        `timeout (${timeout.toSeconds()} s) exceeds locks.leaseSeconds (${given.locks.leaseSeconds} s): a lease could lapse while its run is still working. Raise leaseSeconds or lower the timeout.`,
      );
    }
    if (props.staticEgressIp && props.vpc) {
      throw new Error('staticEgressIp creates its own VPC: do not also pass vpc');
    }

    this.certificateSecretsArnPattern = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${secretNamePrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    // --- Keys, table, secrets -----------------------------------------------------------
    const keyAlias = `alias/${namePrefix}`;
    this.key = new kms.Key(this, 'Key', {
      description: `Atlas X.509 certificate secrets (${secretNamePrefix}*) rotated by atlas-x509-rotator`,
      enableKeyRotation: true,
      alias: keyAlias,
      // Secrets encrypted with it outlive the stack (the function creates them, not
      // CloudFormation): deleting the key would make every one of them unreadable.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // A physical name: the config that names it is written at synth.
    const leaseTableName = `${namePrefix}-leases`;
    this.leaseTable = new dynamodb.Table(this, 'Leases', {
      tableName: leaseTableName,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'ttl',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Leases hold project ids, usernames and run ids, never key material: the AWS managed
      // key encrypts them with no key policy to keep in sync.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      // Leases only matter while a run lives; nothing to keep once the rotator is gone.
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // A credential under the certificate prefix would be writable by the rotate function.
    const outsidePrefix = (field: string, secretId: string): string => {
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

    let credentialsSecret = props.credentialsSecret;
    if (!credentialsSecret && given.atlas.credentialsSecretId) {
      credentialsSecret = importSecret(this, 'AtlasCredentials', given.atlas.credentialsSecretId);
    }
    let credentialsSecretId: string;
    if (credentialsSecret) {
      credentialsSecretId = outsidePrefix(
        'atlas.credentialsSecretId',
        shippableId(credentialsSecret),
      );
      this.createdCredentialsSecretName = undefined;
    } else {
      credentialsSecretId = outsidePrefix(
        'atlas.credentialsSecretId',
        `${namePrefix}/atlas-credentials`,
      );
      const created = new secretsmanager.Secret(this, 'AtlasCredentials', {
        secretName: credentialsSecretId,
        description:
          'Atlas credential of atlas-x509-rotator: {"clientId","clientSecret"} (service account) or {"publicApiKey","privateApiKey"}',
        encryptionKey: this.key,
        // Created without a credential: the operator puts it (docs/deploy.md). `{}` makes
        // the function report "holds neither ..." until then.
        secretObjectValue: {},
        // Like the key: a stack deletion must not lose the operator's credential. Redeploy
        // by naming it in atlas.credentialsSecretId.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      acknowledge(
        created,
        'AwsSolutions-SMG4',
        'The Atlas credential is issued by Atlas (service account secret or API key) and is rotated there by the operator; a Secrets Manager rotation function would need an Atlas Organization Owner credential. Its expiry is alarmed on (AtlasCredentialDaysToExpiry).',
      );
      credentialsSecret = created;
      this.createdCredentialsSecretName = credentialsSecretId;
    }
    this.credentialsSecret = credentialsSecret;

    let disableSecret = props.disableCredentialsSecret;
    if (!disableSecret && given.atlas.disableCredentialsSecretId) {
      disableSecret = importSecret(
        this,
        'DisableCredentials',
        given.atlas.disableCredentialsSecretId,
      );
    }
    const disableCredentialsSecretId = disableSecret
      ? outsidePrefix('atlas.disableCredentialsSecretId', shippableId(disableSecret))
      : undefined;

    const shipped = deployedConfig(
      props.config,
      {
        tableName: leaseTableName,
        // The key's ARN exists only after deployment, but the config is written at synth:
        // the alias names the same key in the function's account and region.
        kmsKeyId: keyAlias,
        credentialsSecretId,
        disableCredentialsSecretId,
      },
      source,
    );
    this.shippedConfig = shipped.raw;
    this.deployedConfig = shipped.parsed;

    // --- Network -----------------------------------------------------------------------
    let vpcSubnets = props.vpcSubnets;
    if (props.staticEgressIp) {
      const eip = new ec2.CfnEIP(this, 'EgressIp', {
        domain: 'vpc',
        tags: [{ key: 'Name', value: `${namePrefix}-egress` }],
      });
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        // One NAT gateway, one address for the Atlas access list.
        natGateways: 1,
        natGatewayProvider: ec2.NatProvider.gateway({ eipAllocationIds: [eip.attrAllocationId] }),
        subnetConfiguration: [
          { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'Egress', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 },
        ],
        // Nothing uses the default security group, and restricting it needs a custom
        // resource Lambda of its own.
        restrictDefaultSecurityGroup: false,
      });
      vpc.addFlowLog('FlowLog', {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(
          new logs.LogGroup(this, 'FlowLogs', {
            retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
            removalPolicy: RemovalPolicy.DESTROY,
          }),
        ),
        trafficType: ec2.FlowLogTrafficType.ALL,
      });
      this.vpc = vpc;
      this.egressIp = eip.attrPublicIp;
      vpcSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    } else {
      this.vpc = props.vpc;
      this.egressIp = undefined;
    }
    let securityGroups: ec2.ISecurityGroup[] | undefined;
    if (this.vpc) {
      const group = new ec2.SecurityGroup(this, 'FunctionSecurityGroup', {
        vpc: this.vpc,
        description: 'atlas-x509-rotator functions: HTTPS out to Atlas and AWS APIs only',
        allowAllOutbound: false,
      });
      group.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to Atlas and AWS APIs');
      securityGroups = [group];
    }

    // --- Failure queue -----------------------------------------------------------------
    this.failureQueue = new sqs.Queue(this, 'FailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.failureQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue: of the schedule target (failed deliveries) and the on-failure destination of the rotate function. Nothing consumes it automatically; its depth is alarmed on.',
    );

    // --- Consumers ---------------------------------------------------------------------
    const consumers = props.consumers ?? {};
    const consumerProblems = Object.keys(consumers)
      .filter((projectId) => !given.projects.some((p) => p.projectId === projectId))
      .map((projectId) => `consumers.${projectId}: not a project of the rotation config`);
    if (consumerProblems.length > 0)
      throw new ConfigError(consumerProblems, 'the consumers property');
    try {
      // The function validates ROTATOR_CONSUMERS with this very code: check the ARNs now.
      const known = Object.fromEntries(
        Object.entries(consumers).map(([p, arns]) => [
          p,
          // Tokens (a role of this app, say) resolve at deploy; the shape is checked anyway.
          Array.isArray(arns) ? arns.filter((a) => !Token.isUnresolved(a)) : arns,
        ]),
      );
      consumersFromEnv({ ROTATOR_CONSUMERS: JSON.stringify(known) });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      throw new ConfigError(
        err.issues.map((i) => i.replace(/^ROTATOR_CONSUMERS\./, 'consumers.')),
        'the consumers property',
      );
    }
    const consumerArns = [...new Set(Object.values(consumers).flat())];
    if (consumerArns.length > 0) {
      this.key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'ConsumersDecryptCertificatesViaSecretsManager',
          principals: consumerArns.map((arn) => new iam.ArnPrincipal(arn)),
          actions: ['kms:Decrypt'],
          resources: ['*'],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` },
            // Certificate secrets only, never the credentials secret under the same key.
            StringLike: { 'kms:EncryptionContext:SecretARN': this.certificateSecretsArnPattern },
          },
        }),
      );
    }

    // --- Functions ---------------------------------------------------------------------
    const viaSecretsManager = { 'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com` };
    const readSecret = (sid: string, secret: secretsmanager.ISecret): iam.PolicyStatement[] => [
      new iam.PolicyStatement({
        sid: `Read${sid}`,
        actions: ['secretsmanager:GetSecretValue'],
        resources: [arnPattern(secret)],
      }),
      ...(secret.encryptionKey
        ? [
            new iam.PolicyStatement({
              sid: `Decrypt${sid}`,
              actions: ['kms:Decrypt'],
              resources: [secret.encryptionKey.keyArn],
              conditions: {
                StringEquals: viaSecretsManager,
                StringLike: { 'kms:EncryptionContext:SecretARN': arnPattern(secret) },
              },
            }),
          ]
        : []),
    ];
    const putEvents = (types: readonly DetailType[]) =>
      new iam.PolicyStatement({
        sid: 'PutEventsOnDefaultBus',
        actions: ['events:PutEvents'],
        resources: [
          stack.formatArn({ service: 'events', resource: 'event-bus', resourceName: 'default' }),
        ],
        // EventBridge authorizes each entry on its own source and detail type.
        conditions: {
          StringEquals: { 'events:source': EVENT_SOURCE, 'events:detail-type': [...types] },
        },
      });
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const network = { vpc: this.vpc, vpcSubnets, securityGroups };

    const consumersJson = consumerArns.length > 0 ? stack.toJsonString(consumers) : undefined;
    const rotate = new RotatorFunction(this, 'Rotate', {
      entry: 'functions/rotate/handler.ts',
      description:
        'atlas-x509-rotator: rotates Atlas-managed X.509 certificates into Secrets Manager',
      config: shipped.raw,
      timeout,
      memorySize: props.memorySize ?? 512,
      logRetention,
      ...network,
      ...(consumersJson ? { environment: { ROTATOR_CONSUMERS: consumersJson } } : {}),
      unscopedReason:
        'secretsmanager:ListSecrets supports no resource-level permission; the function filters it by the certificate name prefix and reads nothing else through it.',
      statements: [
        new iam.PolicyStatement({
          sid: 'ManageCertificateSecrets',
          actions: [
            'secretsmanager:DescribeSecret',
            'secretsmanager:GetSecretValue',
            'secretsmanager:CreateSecret',
            'secretsmanager:PutSecretValue',
            'secretsmanager:UpdateSecretVersionStage',
            // CreateSecret with Tags is authorized as TagResource too; each run also tags
            // the current certificate's expiry.
            'secretsmanager:TagResource',
            // The consumers' read policy on each new secret.
            'secretsmanager:PutResourcePolicy',
          ],
          resources: [this.certificateSecretsArnPattern],
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
          resources: [this.key.keyArn],
          conditions: {
            StringEquals: viaSecretsManager,
            StringLike: { 'kms:EncryptionContext:SecretARN': this.certificateSecretsArnPattern },
          },
        }),
        ...readSecret('AtlasCredentials', credentialsSecret),
        new iam.PolicyStatement({
          sid: 'Leases',
          actions: ['dynamodb:DescribeTable', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
          resources: [this.leaseTable.tableArn],
        }),
        putEvents(ROTATE_EVENTS),
      ],
    });
    acknowledge(
      rotate.role,
      wildcardResourceFinding(this, this.certificateSecretsArnPattern),
      `The function creates one secret per database user at run time, under defaults.secretNamePrefix ("${secretNamePrefix}"); their names (and random ARN suffixes) are not known at deploy time, so the grant is scoped to the prefix.`,
    );
    rotate.function.configureAsyncInvoke({
      // A failed run is not retried: runs are idempotent and the next scheduled run redoes
      // whatever is still due, while a retry could race the lease of the failed one.
      retryAttempts: 0,
      maxEventAge: Duration.hours(1),
      onFailure: new destinations.SqsDestination(this.failureQueue),
    });
    this.rotateFunction = rotate.function;

    if (props.includeDisableFunction ?? true) {
      const disable = new RotatorFunction(this, 'DisableCustomerX509', {
        entry: 'functions/disable-customer-x509/handler.ts',
        description:
          'atlas-x509-rotator: disables customer-managed X.509 on a configured project (manual, guarded; restarts its clusters)',
        config: shipped.raw,
        timeout: Duration.minutes(2),
        memorySize: 256,
        logRetention,
        ...network,
        statements: [
          ...readSecret('AtlasCredentials', disableSecret ?? credentialsSecret),
          putEvents(DISABLE_EVENTS),
        ],
      });
      // Restarting clusters must never happen twice because an async invoke was retried.
      disable.function.configureAsyncInvoke({ retryAttempts: 0 });
      this.disableFunction = disable.function;
    } else {
      this.disableFunction = undefined;
    }

    // --- Schedule ----------------------------------------------------------------------
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'EventBridge Scheduler: invokes the atlas-x509-rotator rotate function',
    });
    acknowledge(
      schedulerRole,
      wildcardResourceFinding(this, `${rotate.function.functionArn}:*`),
      'Added by the Scheduler Lambda target (grantInvoke): the function itself and its versions/aliases, nothing else.',
    );
    const scheduleWindow = props.scheduleWindow ?? Duration.minutes(15);
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: 'atlas-x509-rotator: rotates certificates that are due',
      schedule:
        props.schedule ??
        scheduler.ScheduleExpression.expression(DEFAULT_SCHEDULE, TimeZone.ETC_UTC),
      timeWindow:
        scheduleWindow.toMinutes() > 0
          ? scheduler.TimeWindow.flexible(scheduleWindow)
          : scheduler.TimeWindow.off(),
      enabled: props.scheduleEnabled ?? true,
      target: new schedulerTargets.LambdaInvoke(rotate.function, {
        role: schedulerRole,
        // The handler's schema accepts exactly this (functions/domain/request.ts).
        input: scheduler.ScheduleTargetInput.fromObject({
          scheduledTime: scheduler.ContextAttribute.scheduledTime,
        }),
        // Scheduler's defaults (185 attempts over 24 h) would pile up runs; tomorrow's run
        // is the real retry.
        retryAttempts: 2,
        maxEventAge: Duration.hours(1),
        deadLetterQueue: this.failureQueue,
      }),
    });

    // --- Alarms ------------------------------------------------------------------------
    const alarmKey = new kms.Key(this, 'AlarmTopicKey', {
      description: 'atlas-x509-rotator alarm topic',
      enableKeyRotation: true,
      // Only in-flight notifications depend on it.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // Alarms cannot publish to a topic under the AWS managed SNS key: CloudWatch must be
    // allowed to use this one.
    alarmKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'Atlas X.509 rotation alarms',
      masterKey: alarmKey,
      enforceSSL: true,
    });
    if (props.alarmEmail) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    }
    const notify = new cloudwatchActions.SnsAction(this.alarmTopic);

    const runMetric = (name: MetricName, statistic: string, period = Duration.hours(1)) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: SERVICE_NAME },
        statistic,
        period,
      });

    const criticalDays = props.criticalDays ?? given.rotation.criticalDays;
    const credentialWarningDays = props.credentialWarningDays ?? 14;
    const heartbeatHours = Math.ceil((props.heartbeat ?? Duration.hours(26)).toMinutes() / 60);
    if (heartbeatHours < 1 || heartbeatHours > 168) {
      throw new Error(`heartbeat: ${heartbeatHours} hours; use 1 to 168 hours`);
    }

    const alarm = (
      name: string,
      options: Omit<cloudwatch.AlarmProps, 'alarmName' | 'actionsEnabled'>,
      notifyRecovery: boolean,
    ): cloudwatch.Alarm => {
      const created = new cloudwatch.Alarm(this, `${name}Alarm`, {
        ...options,
        alarmName: `${namePrefix}-${name}`,
      });
      created.addAlarmAction(notify);
      // Only where OK means "a later run or check says so"; on the NOT_BREACHING ones OK
      // just means an hour passed.
      if (notifyRecovery) created.addOkAction(notify);
      return created;
    };

    this.alarms = {
      // Per-run metrics keep their state until the next run (IGNORE): a failing day stays
      // in ALARM until a run says otherwise.
      failedUsers: alarm(
        'FailedUsers',
        {
          alarmDescription:
            'A rotation run failed for at least one user (or the whole run failed). The run report in the rotate function log names each user, errorCode and remedy.',
          metric: runMetric('FailedUsers', cloudwatch.Stats.MAXIMUM),
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.IGNORE,
        },
        true,
      ),
      minDaysToExpiry: alarm(
        'MinDaysToExpiry',
        {
          alarmDescription: `A covered certificate expires in less than ${criticalDays} days (or a user has none). Rotation is not keeping up: check FailedUsers and the run report.`,
          metric: runMetric('MinDaysToExpiry', cloudwatch.Stats.MINIMUM),
          threshold: criticalDays,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.IGNORE,
        },
        true,
      ),
      // Silence is the failure this one exists for: no RunCompleted at all for the whole
      // window (the schedule stopped, every invoke failed, the function is gone).
      heartbeat: alarm(
        'NoCompletedRun',
        {
          alarmDescription: `No rotation run completed in ${heartbeatHours} hours. Check the schedule, the failure queue and the rotate function's errors.`,
          metric: runMetric('RunCompleted', cloudwatch.Stats.SUM),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: heartbeatHours,
          datapointsToAlarm: heartbeatHours,
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        },
        true,
      ),
      // Known only with a service account and atlas.organizationId: missing data is normal.
      credentialExpiry: alarm(
        'AtlasCredentialExpiry',
        {
          alarmDescription: `The rotator's Atlas service account secret expires in less than ${credentialWarningDays} days: create a new secret in Atlas and put it in the credentials secret.`,
          metric: runMetric('AtlasCredentialDaysToExpiry', cloudwatch.Stats.MINIMUM),
          threshold: credentialWarningDays,
          comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        false,
      ),
      functionErrors: alarm(
        'RotateFunctionErrors',
        {
          alarmDescription:
            'The rotate function failed (a run-wide error, a rejected payload, or a timeout). See its log; scheduled invocations that failed are also in the failure queue.',
          metric: rotate.function.metricErrors({
            period: Duration.hours(1),
            statistic: cloudwatch.Stats.SUM,
          }),
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        false,
      ),
      failureQueue: alarm(
        'FailureQueueNotEmpty',
        {
          alarmDescription:
            'A scheduled invocation could not be delivered, or an asynchronous rotate invocation failed. Read the messages in the failure queue, then purge it.',
          metric: this.failureQueue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(5),
            statistic: cloudwatch.Stats.MAXIMUM,
          }),
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
        true,
      ),
    };

    // --- Dashboard ---------------------------------------------------------------------
    const daily = (name: MetricName, statistic: string, label: string) =>
      runMetric(name, statistic, Duration.days(1)).with({ label });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: namePrefix,
      defaultInterval: Duration.days(90),
      widgets: [
        [
          new cloudwatch.TextWidget({
            markdown: `# Atlas X.509 certificate rotation\nProjects: ${given.projects.map((p) => p.projectId).join(', ')}. Secrets: \`${secretNamePrefix}*\`. Per-run metrics (namespace \`${METRICS_NAMESPACE}\`); a dry run emits none.`,
            width: 12,
            height: 4,
          }),
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: Object.values(this.alarms),
            width: 12,
            height: 4,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Days to expiry (smallest across covered users)',
            left: [
              daily('MinDaysToExpiry', cloudwatch.Stats.MINIMUM, 'certificates'),
              daily('AtlasCredentialDaysToExpiry', cloudwatch.Stats.MINIMUM, 'rotator credential'),
            ],
            leftAnnotations: [
              { value: criticalDays, label: 'critical', color: cloudwatch.Color.RED },
              {
                value: credentialWarningDays,
                label: 'credential warning',
                color: cloudwatch.Color.ORANGE,
              },
            ],
            leftYAxis: { min: 0, label: 'days', showUnits: false },
            width: 12,
          }),
          new cloudwatch.SingleValueWidget({
            title: 'Now',
            metrics: [
              runMetric('MinDaysToExpiry', cloudwatch.Stats.MINIMUM, Duration.days(2)).with({
                label: 'min days to expiry',
              }),
              runMetric('RunCompleted', cloudwatch.Stats.SUM, Duration.days(2)).with({
                label: 'runs in 2 days',
              }),
            ],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Rotations per day',
            left: [
              daily('RotatedUsers', cloudwatch.Stats.SUM, 'rotated'),
              daily('ResumedUsers', cloudwatch.Stats.SUM, 'resumed'),
            ],
            stacked: true,
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Failures per day',
            left: [
              daily('FailedUsers', cloudwatch.Stats.SUM, 'failed users'),
              daily('DeferredUsers', cloudwatch.Stats.SUM, 'deferred users'),
              daily('Orphans', cloudwatch.Stats.SUM, 'orphaned certificates'),
              rotate.function
                .metricErrors({ period: Duration.days(1), statistic: cloudwatch.Stats.SUM })
                .with({ label: 'function errors' }),
              this.failureQueue
                .metricApproximateNumberOfMessagesVisible({
                  period: Duration.days(1),
                  statistic: cloudwatch.Stats.MAXIMUM,
                })
                .with({ label: 'failure queue' }),
            ],
            width: 12,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Completed runs per day',
            left: [daily('RunCompleted', cloudwatch.Stats.SUM, 'runs')],
            width: 12,
          }),
          new cloudwatch.GraphWidget({
            title: 'Rotate function duration',
            left: [
              rotate.function.metricDuration({
                period: Duration.days(1),
                statistic: cloudwatch.Stats.MAXIMUM,
              }),
            ],
            leftAnnotations: [{ value: timeout.toMilliseconds(), label: 'timeout' }],
            width: 12,
          }),
        ],
      ],
    });
  }
}
