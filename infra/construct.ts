import { Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { parseConfig } from '../functions/domain/config/resolve.js';
import type { RawConfig } from '../functions/domain/config/schema.js';
import type { RotatorConfig } from '../functions/domain/config/types.js';
import { DEPLOYMENT_ENV } from '../functions/domain/names.js';
import { disableCredentials, rotatorCredentials, secretAccess } from './atlas-credentials.js';
import { certificateKey, certificateSecretsArnPattern } from './certificate-key.js';
import { deployedConfig, givenConfig, requireSecretNamePrefix } from './config.js';
import { allowConsumers, checkConsumers } from './consumers.js';
import { disableFunction } from './disable-function.js';
import { redeployOnPromotion } from './ecs-redeploy.js';
import { failureQueue } from './failure-queue.js';
import { leaseTable } from './lease-table.js';
import {
  checkCredentialRotation,
  MANAGED_SECRET_TYPE,
  type ManagedCredentialRotation,
  managedCredentialRotation,
} from './managed-credential-rotation.js';
import { alarmTopic } from './monitoring/alarm-topic.js';
import { alarmThresholds, rotationAlarms } from './monitoring/alarms.js';
import { rotationDashboard } from './monitoring/dashboard.js';
import { type DeploymentMetrics, deploymentMetrics } from './monitoring/metrics.js';
import { namePrefixOf } from './name-prefix.js';
import { checkNetworkProps, functionNetwork } from './network.js';
import { checkOutputPrefix, rotationOutputs } from './outputs.js';
import type { AtlasX509RotationProps } from './props.js';
import { checkReplicas, replicaAccess, replicaReadersStatement } from './replicas.js';
import { checkRotateTimeout, DEFAULT_ROTATE_TIMEOUT, rotateFunction } from './rotate-function.js';
import { checkRuntime } from './runtime.js';
import { rotationSchedules } from './schedule.js';
import { certificateKeyAliasOf, claimNames } from './shared-names.js';
import { cleanUnderCdk } from './synth-errors.js';

export type { Consumers } from './consumers.js';
export type { AtlasX509RotationProps } from './props.js';

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
 *   // Names the lease table (locks.tableName) and key alias (defaults.kmsKeyId, required):
 *   // give the CLI the same file.
 *   configFile: 'rotation.config.json',
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
  /** Secrets Manager's rotation of the credentials secret, with `credentialRotation`. */
  readonly credentialsRotation: ManagedCredentialRotation | undefined;
  /** Failed schedule deliveries and failed asynchronous invocations land here. */
  readonly failureQueue: sqs.Queue;
  readonly schedule: scheduler.Schedule;
  /** Continues runs that left users deferred (absent with `catchUpEvery: Duration.minutes(0)`). */
  readonly catchUpSchedule: scheduler.Schedule | undefined;
  /** Every alarm notifies this topic. */
  readonly alarmTopic: sns.Topic;
  readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  readonly dashboard: cloudwatch.Dashboard;
  /** The VPC the functions run in, if any. */
  readonly vpc: ec2.IVpc | undefined;
  /** The Elastic IP address Atlas sees, with `staticEgressIp`. */
  readonly egressIp: string | undefined;
  /** What ships as `rotation.config.json`: the given config with the credential ids written in. */
  readonly shippedConfig: RawConfig;
  /** The shipped config as the functions see it, defaults applied. */
  readonly deployedConfig: RotatorConfig;
  /** The certificate secrets' ARN pattern, `arn:…:secret:<secretNamePrefix>*`. */
  readonly certificateSecretsArnPattern: string;
  /** The certificate key's alias: the config's `defaults.kmsKeyId`. */
  readonly keyAlias: string;
  /** The functions' Lambda runtime. */
  readonly runtime: lambda.Runtime;
  /**
   * Names the functions, alarms and dashboard; the run metrics' `deployment` dimension, so
   * two deployments in one account and Region keep their alarms apart.
   */
  readonly namePrefix: string;
  /** This deployment's run metrics (`metrics.run('FailedUsers', 'Maximum')`), for alarms of your own. */
  readonly metrics: DeploymentMetrics;
  private readonly replicaReaders: (region: string) => iam.PolicyStatement | undefined;

  constructor(scope: Construct, id: string, props: AtlasX509RotationProps) {
    super(scope, id);
    // An input error ends `cdk synth` as one message, without a stack dump (synth-errors.ts).
    try {
      const stack = Stack.of(this);
      const { raw, source } = givenConfig(props, this.node.path);

      // Fail on the user's own config first, so its errors name the user's fields; then on
      // the props, before anything is created.
      const given = parseConfig(raw, source);
      const secretNamePrefix = requireSecretNamePrefix(given, source);
      const namePrefix = namePrefixOf(this, props.namePrefix);
      this.namePrefix = namePrefix;
      this.metrics = deploymentMetrics(namePrefix);
      // The names the CLI uses too: the config's, not the construct's (D1).
      this.keyAlias = certificateKeyAliasOf(given, source);
      const tableName = given.locks.tableName;
      claimNames(
        this,
        stack,
        { tableName, keyAlias: this.keyAlias, secretNamePrefix, namePrefix },
        source,
      );
      this.runtime = checkRuntime(props.runtime);
      const outputPrefix = checkOutputPrefix(props.outputPrefix ?? '');
      const timeout = props.timeout ?? DEFAULT_ROTATE_TIMEOUT;
      checkRotateTimeout(timeout, given.locks.leaseSeconds);
      checkNetworkProps(props);
      checkReplicas(stack, given, props.consumers ?? {}, source);
      this.replicaReaders = (region) =>
        replicaReadersStatement(stack, props.consumers ?? {}, secretNamePrefix, region);
      checkCredentialRotation(props.credentialRotation, secretNamePrefix);
      this.certificateSecretsArnPattern = certificateSecretsArnPattern(stack, secretNamePrefix);

      // Keys, table, secrets.
      this.key = certificateKey(this, this.keyAlias, secretNamePrefix);
      this.leaseTable = leaseTable(this, tableName);
      const secretIds = { secretNamePrefix, source };
      const credentials = rotatorCredentials(this, {
        ...secretIds,
        given: props.credentialsSecret,
        configuredId: given.atlas.credentialsSecretId,
        namePrefix,
        key: this.key,
        managedType: props.credentialRotation ? MANAGED_SECRET_TYPE : undefined,
      });
      const disableCredential = disableCredentials(this, {
        ...secretIds,
        given: props.disableCredentialsSecret,
        configuredId: given.atlas.disableCredentialsSecretId,
      });
      this.credentialsSecret = credentials.secret;
      this.createdCredentialsSecretName = credentials.createdName;
      this.credentialsRotation = props.credentialRotation
        ? managedCredentialRotation(this, {
            ...props.credentialRotation,
            secret: credentials.secret,
          })
        : undefined;
      const shipped = deployedConfig(
        raw,
        {
          credentialsSecretId: credentials.shippedId,
          disableCredentialsSecretId: disableCredential?.shippedId,
        },
        source,
      );
      this.shippedConfig = shipped.raw;
      this.deployedConfig = shipped.parsed;

      // Network, failure queue, consumers.
      const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
      // A project checks new certificates' logins: the cluster ports open, the bypass alarms.
      const loginCheck = given.projects.some((p) => p.verify !== undefined);
      const network = functionNetwork(this, {
        ...props,
        namePrefix,
        logRetention,
        clusterEgress: loginCheck,
      });
      this.vpc = network.placement.vpc;
      this.egressIp = network.egressIp;
      this.failureQueue = failureQueue(this);
      const consumers = props.consumers ?? {};
      const projectIds = given.projects.map((p) => p.projectId);
      checkConsumers(consumers, projectIds);
      const environment = {
        ...allowConsumers(this.key, consumers, this.certificateSecretsArnPattern),
        // The run metrics' deployment dimension, which the alarms below read (domain/names.ts).
        [DEPLOYMENT_ENV]: namePrefix,
      };

      // Functions and their schedule.
      const access = {
        region: stack.region,
        eventBusArn: stack.formatArn({
          service: 'events',
          resource: 'event-bus',
          resourceName: 'default',
        }),
      };
      const functionProps = {
        config: shipped.raw,
        logRetention,
        placement: network.placement,
        runtime: this.runtime,
      };
      this.rotateFunction = rotateFunction(this, {
        ...functionProps,
        timeout,
        memorySize: props.memorySize ?? 512,
        environment,
        access: {
          ...access,
          credentials: secretAccess(this.credentialsSecret),
          certificateSecretsArnPattern: this.certificateSecretsArnPattern,
          certificateKeyArn: this.key.keyArn,
          leaseTableArn: this.leaseTable.tableArn,
          replicas: replicaAccess(stack, this.deployedConfig, secretNamePrefix),
        },
        secretNamePrefix,
        failureQueue: this.failureQueue,
      });
      this.disableFunction =
        (props.includeDisableFunction ?? true)
          ? disableFunction(this, {
              ...functionProps,
              access: {
                ...access,
                credentials: secretAccess(disableCredential?.secret ?? this.credentialsSecret),
              },
            })
          : undefined;
      const schedules = rotationSchedules(this, {
        ...props,
        rotateFunction: this.rotateFunction,
        deadLetterQueue: this.failureQueue,
      });
      this.schedule = schedules.schedule;
      this.catchUpSchedule = schedules.catchUp;
      redeployOnPromotion(this, props.redeployEcsServices, {
        ...functionProps,
        secretNamePrefix,
        failureQueue: this.failureQueue,
      });

      // Alarms and dashboard.
      this.alarmTopic = alarmTopic(this, props.alarmEmail);
      const thresholds = alarmThresholds(props, given.rotation.criticalDays);
      const monitored = {
        rotateFunction: this.rotateFunction,
        failureQueue: this.failureQueue,
        metrics: this.metrics,
      };
      this.alarms = rotationAlarms(this, {
        ...monitored,
        namePrefix,
        topic: this.alarmTopic,
        thresholds,
        loginCheck,
      });
      this.dashboard = rotationDashboard(this, {
        ...monitored,
        dashboardName: namePrefix,
        projectIds,
        secretNamePrefix,
        alarms: Object.values(this.alarms),
        thresholds,
        timeout,
      });

      if (props.outputs ?? true) {
        rotationOutputs(this, outputPrefix, {
          credentialsSecretArn: this.credentialsSecret.secretArn,
          credentialsSecretCreated: this.createdCredentialsSecretName !== undefined,
          rotateFunctionName: this.rotateFunction.functionName,
          disableFunctionName: this.disableFunction?.functionName,
          leaseTableName: this.leaseTable.tableName,
          keyArn: this.key.keyArn,
          alarmTopicArn: this.alarmTopic.topicArn,
          dashboardName: this.dashboard.dashboardName,
          failureQueueUrl: this.failureQueue.queueUrl,
          egressIp: this.egressIp,
          credentialsRotationRoleArn: this.credentialsRotation?.role.roleArn,
        });
      }
    } catch (err) {
      throw cleanUnderCdk(err);
    }
  }

  /**
   * The key policy statement that lets the consumers read the certificate replicas in `region`
   * (`kms:Decrypt` through Secrets Manager there, for the certificate secrets only). Add it to
   * the customer managed key the config names for that Region, in a stack of that Region
   * (docs/deploy.md, "Replica Regions"). The AWS managed key needs none, and serves consumers of
   * this account only. Undefined without consumers.
   */
  replicaKeyPolicyStatement(region: string): iam.PolicyStatement | undefined {
    return this.replicaReaders(region);
  }
}
