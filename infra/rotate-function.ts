import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { RawConfig } from '../functions/domain/config/schema.js';
import { MIN_ROTATE_TIMEOUT_SECONDS } from '../functions/domain/timing.js';
import { acknowledge, wildcardResourceFinding } from './nag.js';
import type { FunctionPlacement } from './network.js';
import { type RotateAccess, rotateStatements } from './permissions.js';
import { aliasKeyResources } from './replicas.js';
import { RotatorFunction } from './rotator-function.js';

export const DEFAULT_ROTATE_TIMEOUT = Duration.minutes(10);

/** Refuses a timeout too short to ever mint, or long enough to outlive a run's lease. */
export const checkRotateTimeout = (timeout: Duration, leaseSeconds: number): void => {
  const seconds = timeout.toSeconds();
  if (seconds < MIN_ROTATE_TIMEOUT_SECONDS) {
    throw new Error(
      `timeout (${seconds} s) is too short to ever mint: a run needs at least ${MIN_ROTATE_TIMEOUT_SECONDS} s (its report, a user's reads and lease, one certificate create and the store of its key). Raise timeout to Duration.seconds(${MIN_ROTATE_TIMEOUT_SECONDS}) or more.`,
    );
  }
  if (seconds > leaseSeconds) {
    throw new Error(
      `timeout (${seconds} s) exceeds locks.leaseSeconds (${leaseSeconds} s): a lease could lapse while its run is still working. Raise leaseSeconds or lower the timeout.`,
    );
  }
};

export interface RotateFunctionProps {
  readonly config: RawConfig;
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly logRetention: logs.RetentionDays;
  readonly placement: FunctionPlacement;
  readonly runtime: lambda.Runtime;
  readonly environment: Record<string, string> | undefined;
  readonly access: RotateAccess;
  /** Named in the acknowledgement of the prefix-scoped grant. */
  readonly secretNamePrefix: string;
  readonly failureQueue: sqs.IQueue;
}

/** The scheduled rotate function, its failed runs sent to the failure queue. */
export const rotateFunction = (scope: Construct, props: RotateFunctionProps): lambda.IFunction => {
  const rotate = new RotatorFunction(scope, 'Rotate', {
    handler: 'rotate',
    description:
      'atlas-x509-rotator: rotates Atlas-managed X.509 certificates into Secrets Manager',
    config: props.config,
    timeout: props.timeout,
    memorySize: props.memorySize,
    logRetention: props.logRetention,
    runtime: props.runtime,
    ...props.placement,
    ...(props.environment ? { environment: props.environment } : {}),
    unscopedReason:
      'secretsmanager:ListSecrets supports no resource-level permission; the function filters it by the certificate name prefix and reads nothing else through it.',
    statements: rotateStatements(props.access),
  });
  acknowledge(
    rotate.role,
    wildcardResourceFinding(scope, props.access.certificateSecretsArnPattern),
    `The function creates one secret per database user at run time, under defaults.secretNamePrefix ("${props.secretNamePrefix}"); their names (and random ARN suffixes) are not known at deploy time, so the grant is scoped to the prefix.`,
  );
  for (const resource of aliasKeyResources(props.access.replicas)) {
    acknowledge(
      rotate.role,
      wildcardResourceFinding(scope, resource),
      'A replica key named by its alias in the config: IAM cannot name a KMS key by alias, so the grant is every key of that Region and account, held by kms:ResourceAliases to the keys carrying that alias, and by kms:ViaService to Secrets Manager there.',
    );
  }
  rotate.function.configureAsyncInvoke({
    // A failed run is not retried: runs are idempotent and the next scheduled run redoes
    // whatever is still due, while a retry could race the lease of the failed one.
    retryAttempts: 0,
    maxEventAge: Duration.hours(1),
    onFailure: new destinations.SqsDestination(props.failureQueue),
  });
  return rotate.function;
};
