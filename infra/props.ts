import type { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { RawConfig } from '../functions/domain/config/schema.js';
import type { Consumers } from './consumers.js';
import type { EcsRedeployTarget } from './ecs-redeploy.js';
import type { CredentialRotationProps } from './managed-credential-rotation.js';

/** What an adopter passes to `new AtlasX509Rotation(...)`: the construct's props, documented. */
export interface AtlasX509RotationProps {
  /**
   * The path of the rotation config file (`rotation.config.json`), read and validated at synth
   * with the functions' own schema; every error names the file (a non-JSON file: line and
   * column). Give this or `config`, not both. Give the CLI the same file: the lease table
   * (`locks.tableName`) and the key alias (`defaults.kmsKeyId`) it names are the ones this
   * construct creates, so manual runs and scheduled ones share leases.
   * @default - `config` is required instead
   */
  readonly configFile?: string;
  /**
   * The rotation config, as in the JSON file (`RawConfig`), when the app has already parsed it.
   * Give this or `configFile`, not both. It is validated at synth with the functions' own
   * schema and ships beside each handler as `rotation.config.json` unchanged but for
   * `atlas.credentialsSecretId` and `atlas.disableCredentialsSecretId` (the secrets the
   * functions were granted). The lease table is `locks.tableName` (default
   * `atlas-x509-rotator-locks`) and the certificate key is created under the alias
   * `defaults.kmsKeyId`, which must be set to an alias (`alias/...`): the construct fills in
   * neither, so the CLI run with the same file uses the same table and key.
   * @default - `configFile` is required instead
   */
  readonly config?: RawConfig;
  /**
   * Where the config came from, named in validation errors.
   * @default - the `configFile` path; with `config`, "the config of <construct path>"
   */
  readonly configSource?: string;
  /**
   * The functions' Lambda runtime: a Node.js runtime the bundles are tested on (`nodejs24.x`,
   * `nodejs26.x`; where your aws-cdk-lib has no constant for one,
   * `new lambda.Runtime('nodejs26.x', lambda.RuntimeFamily.NODEJS)`). Others fail synth.
   * @default - the newest of those your aws-cdk-lib knows (`lambda.Runtime.ALL`, which is what
   * cdk-nag's AwsSolutions-L1 compares with)
   */
  readonly runtime?: lambda.Runtime;
  /**
   * Emits the stack outputs operators use (docs/deploy.md): `CredentialsSecretArn`,
   * `RotateFunctionName`, `DisableFunctionName` (with the disable function), `LeaseTableName`,
   * `CertificateSecretsKeyArn`, `AlarmTopicArn`, `DashboardName`, `FailureQueueUrl`,
   * `EgressIp` (with `staticEgressIp`) and `CredentialsRotationRoleArn` (with
   * `credentialRotation`), each named `<outputPrefix><name>` in the stack.
   * @default true
   */
  readonly outputs?: boolean;
  /**
   * Prefixes the output names (letters and digits), so that two rotations in one stack keep
   * theirs apart.
   * @default '' (the names as listed under `outputs`)
   */
  readonly outputPrefix?: string;
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
   * How often the catch-up schedule ticks: after a run that left users deferred (out of time,
   * or Atlas's rate limit spent), the next tick continues, up to `rotation.catchUpRuns` in a
   * row; otherwise a tick ends after one DynamoDB read. `Duration.minutes(0)` removes it.
   * At least 16 minutes, so a tick never starts while the one before can still run.
   * @default Duration.minutes(20)
   */
  readonly catchUpEvery?: Duration;
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
   * (`AtlasCredentialDaysToExpiry`, reported when the credential is a service account and the
   * config's `atlas.organizationId` or the secret's `orgId` names its organization).
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
   * Prefix of the physical names this construct gives (the created credentials
   * secret, alarms, dashboard; the lease table and key alias are the config's). Letters,
   * digits, `-` and `_`, at most 64.
   * @default - derived from the construct path, unique in the app
   */
  readonly namePrefix?: string;
  /**
   * Secrets Manager rotates the rotator's own Atlas credential (a service account) itself: the
   * created credentials secret is a managed external secret of type
   * `MongoDBAtlasServiceAccount` (`{"clientId","clientSecret","orgId"}`), with a rotation
   * schedule and the role Secrets Manager rotates it with. Admin-assisted (`adminSecret`) unless
   * `selfRotation: true`. A given or imported secret gets the schedule and role; set its type
   * yourself (docs/deploy.md).
   * @default - no rotation: the operator replaces the secret before it expires
   */
  readonly credentialRotation?: CredentialRotationProps;
  /** ECS services redeployed when their certificate is promoted; none by default (docs/consumers.md). */
  readonly redeployEcsServices?: readonly EcsRedeployTarget[];
}
