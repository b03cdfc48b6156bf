import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { NO_CERTIFICATE_GRACE_HOURS } from '../../functions/domain/names.js';
import {
  type DeploymentMetrics,
  functionErrors,
  queuedMessages,
  STAGNANT_DAYS,
} from './metrics.js';

/** The floors the alarms fire at; the dashboard draws them too. */
export interface AlarmThresholds {
  readonly criticalDays: number;
  readonly credentialWarningDays: number;
  readonly heartbeatHours: number;
}

/** Applies the defaults and refuses a heartbeat CloudWatch cannot evaluate (1 to 168 hours). */
export const alarmThresholds = (
  props: {
    readonly criticalDays?: number | undefined;
    readonly credentialWarningDays?: number | undefined;
    readonly heartbeat?: Duration | undefined;
  },
  configCriticalDays: number,
): AlarmThresholds => {
  const heartbeatHours = Math.ceil((props.heartbeat ?? Duration.hours(26)).toMinutes() / 60);
  if (heartbeatHours < 1 || heartbeatHours > 168) {
    throw new Error(`heartbeat: ${heartbeatHours} hours; use 1 to 168 hours`);
  }
  return {
    criticalDays: props.criticalDays ?? configCriticalDays,
    credentialWarningDays: props.credentialWarningDays ?? 14,
    heartbeatHours,
  };
};

export type RotationAlarms = Readonly<
  Record<
    | 'failedUsers'
    | 'minDaysToExpiry'
    | 'deferredCritical'
    | 'deferredNotShrinking'
    | 'certificateLimit'
    | 'staleConsumers'
    | 'heartbeat'
    | 'credentialExpiry'
    | 'functionErrors'
    | 'failureQueue',
    cloudwatch.Alarm
  >
> & {
  /** With a project's `verify.uri` only. */
  readonly verifyBypassed?: cloudwatch.Alarm;
};

export interface RotationAlarmsProps {
  /** Alarm names are `<namePrefix>-<name>`. */
  readonly namePrefix: string;
  /** The deployment's own run metrics. */
  readonly metrics: DeploymentMetrics;
  readonly topic: sns.ITopic;
  readonly thresholds: AlarmThresholds;
  readonly rotateFunction: lambda.IFunction;
  readonly failureQueue: sqs.IQueue;
  /** Some project checks new certificates' logins (`verify.uri`). */
  readonly loginCheck?: boolean | undefined;
}

export const rotationAlarms = (scope: Construct, props: RotationAlarmsProps): RotationAlarms => {
  const { criticalDays, credentialWarningDays, heartbeatHours } = props.thresholds;
  const runMetric = props.metrics.run;
  const notify = new cloudwatchActions.SnsAction(props.topic);
  const alarm = (
    name: string,
    options: Omit<cloudwatch.AlarmProps, 'alarmName' | 'actionsEnabled'>,
    notifyRecovery: boolean,
  ): cloudwatch.Alarm => {
    const created = new cloudwatch.Alarm(scope, `${name}Alarm`, {
      ...options,
      alarmName: `${props.namePrefix}-${name}`,
    });
    created.addAlarmAction(notify);
    // Only where OK means "a later run or check says so"; on the NOT_BREACHING ones OK
    // just means an hour passed.
    if (notifyRecovery) created.addOkAction(notify);
    return created;
  };

  return {
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
        alarmDescription: `A covered certificate expires in less than ${criticalDays} days (or a user has none, and no catch-up run will reach it within ${NO_CERTIFICATE_GRACE_HOURS} hours of the first deferral). Rotation is not keeping up: check FailedUsers and the run report.`,
        metric: runMetric('MinDaysToExpiry', cloudwatch.Stats.MINIMUM),
        threshold: criticalDays,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      },
      true,
    ),
    // The engine's own critical floor (config rotation.criticalDays) decides the count.
    deferredCritical: alarm(
      'DeferredCritical',
      {
        alarmDescription: `A run deferred a user that holds a certificate about to expire (within the config criticalDays), or none while no catch-up run will reach it within ${NO_CERTIFICATE_GRACE_HOURS} hours of the first deferral: the next scheduled run may be too late. Run it now for that user (docs/runbook.md).`,
        metric: runMetric('DeferredCritical', cloudwatch.Stats.MAXIMUM),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      },
      true,
    ),
    // Evaluated over one day more than it needs, so STAGNANT_DAYS breaching days suffice
    // whether or not the range's first DIFF sees the day before. A missing day (no run) is
    // the heartbeat's to report, not this one's.
    deferredNotShrinking: alarm(
      'DeferredNotShrinking',
      {
        alarmDescription: `Users at risk (not known far from renewal) were deferred on ${STAGNANT_DAYS} of the last ${STAGNANT_DAYS + 1} days without their count falling (DeferredAtRisk): the runs are not keeping up (rate limits, timeout, concurrency). See docs/runbook.md.`,
        metric: props.metrics.deferredNotShrinking(),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: STAGNANT_DAYS + 1,
        datapointsToAlarm: STAGNANT_DAYS,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      },
      true,
    ),
    certificateLimit: alarm(
      'CertificateLimitReached',
      {
        alarmDescription:
          'Atlas refused to mint for a user: it has as many certificates as Atlas allows per user (ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED). Nothing can be minted for it until old certificates expire or the user is recreated. See docs/runbook.md.',
        metric: runMetric('CertificateLimitReached', cloudwatch.Stats.MAXIMUM),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.IGNORE,
      },
      true,
    ),
    // A gauge each run recomputes from ListSecrets: it stays in ALARM until the secret is read
    // on a day after its promotion, or the previous certificate expires (then MinDaysToExpiry
    // and the applications' own errors take over).
    staleConsumers: alarm(
      'StaleConsumers',
      {
        alarmDescription:
          'A certificate secret was not read after the day its current version was promoted, and the certificate its previous version holds expires within the config staleConsumerDays: the applications reading it have not reloaded and will fail when it expires. The run report names them (consumers: "stale"). See docs/runbook.md.',
        metric: runMetric('StaleConsumers', cloudwatch.Stats.MAXIMUM),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
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
        metric: functionErrors(props.rotateFunction, Duration.hours(1)),
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
        metric: queuedMessages(props.failureQueue, Duration.minutes(5)),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      },
      true,
    ),
    // Emitted only by runs whose check ran: missing data is normal, and one notification per
    // bypass is the point.
    ...(props.loginCheck
      ? {
          verifyBypassed: alarm(
            'VerifyBypassed',
            {
              alarmDescription:
                'A certificate was made current although its login check failed (verify.uri): the one it replaced (or none) was within the config criticalDays of expiry. Applications may not be able to log in with it. See docs/runbook.md.',
              metric: runMetric('VerifyBypassed', cloudwatch.Stats.MAXIMUM),
              threshold: 0,
              comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
              evaluationPeriods: 1,
              treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
            },
            false,
          ),
        }
      : {}),
  };
};
