import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../functions/domain/names.js';
import type { AlarmThresholds } from './alarms.js';
import {
  type DeploymentMetrics,
  functionErrors,
  functionMaxDuration,
  queuedMessages,
} from './metrics.js';

export interface RotationDashboardProps {
  readonly dashboardName: string;
  /** The deployment's own run metrics, as its alarms read them. */
  readonly metrics: DeploymentMetrics;
  readonly projectIds: readonly string[];
  readonly secretNamePrefix: string;
  readonly alarms: readonly cloudwatch.IAlarm[];
  readonly thresholds: AlarmThresholds;
  readonly rotateFunction: lambda.IFunction;
  /** Drawn on the duration graph. */
  readonly timeout: Duration;
  readonly failureQueue: sqs.IQueue;
}

/** 90 days of expiry, rotations and failures, with the alarms' state on top. */
export const rotationDashboard = (
  scope: Construct,
  props: RotationDashboardProps,
): cloudwatch.Dashboard => {
  const { criticalDays, credentialWarningDays } = props.thresholds;
  const { run: runMetric, daily, deferredNotShrinking } = props.metrics;
  const day = Duration.days(1);
  return new cloudwatch.Dashboard(scope, 'Dashboard', {
    dashboardName: props.dashboardName,
    defaultInterval: Duration.days(90),
    widgets: [
      [
        new cloudwatch.TextWidget({
          markdown: `# Atlas X.509 certificate rotation\nProjects: ${props.projectIds.join(', ')}. Secrets: \`${props.secretNamePrefix}*\`. Per-run metrics (namespace \`${METRICS_NAMESPACE}\`); a dry run emits none.`,
          width: 12,
          height: 4,
        }),
        new cloudwatch.AlarmStatusWidget({
          title: 'Alarms',
          alarms: [...props.alarms],
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
            daily('Orphans', cloudwatch.Stats.SUM, 'new orphans'),
            daily('CertificateLimitReached', cloudwatch.Stats.MAXIMUM, 'Atlas certificate limit'),
            daily('StaleConsumers', cloudwatch.Stats.MAXIMUM, 'secrets not read since rotation'),
            daily('VerifyBypassed', cloudwatch.Stats.SUM, 'made current past a failed login check'),
            functionErrors(props.rotateFunction, day).with({ label: 'function errors' }),
            queuedMessages(props.failureQueue, day).with({ label: 'failure queue' }),
          ],
          width: 12,
        }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: 'Deferred users (worst run of the day)',
          left: [
            daily('DeferredUsers', cloudwatch.Stats.MAXIMUM, 'deferred'),
            daily('DeferredCritical', cloudwatch.Stats.MAXIMUM, 'deferred within criticalDays'),
            daily('DeferredAtRisk', cloudwatch.Stats.MAXIMUM, 'deferred at risk'),
            daily('UsersWithoutCertificate', cloudwatch.Stats.MAXIMUM, 'no certificate yet'),
            daily('RunNotStarted', cloudwatch.Stats.SUM, 'runs refused by the run lock'),
          ],
          right: [
            deferredNotShrinking(),
            daily('CatchUpPending', cloudwatch.Stats.MAXIMUM, 'catch-up pending'),
          ],
          rightYAxis: { min: 0, max: 1, showUnits: false },
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'Orphaned certificates, and secrets repaired',
          left: [
            daily('StandingOrphans', cloudwatch.Stats.MAXIMUM, 'standing orphans'),
            daily('Orphans', cloudwatch.Stats.SUM, 'orphans first seen'),
            daily(
              'DriftRepaired',
              cloudwatch.Stats.SUM,
              'secrets whose policy or tags were repaired',
            ),
          ],
          width: 12,
        }),
      ],
      [
        new cloudwatch.GraphWidget({
          title: 'Completed runs per day (catch-up runs among them)',
          left: [
            daily('RunCompleted', cloudwatch.Stats.SUM, 'runs'),
            daily('CatchUpRuns', cloudwatch.Stats.SUM, 'catch-up runs'),
          ],
          width: 12,
        }),
        new cloudwatch.GraphWidget({
          title: 'Rotate function duration',
          left: [functionMaxDuration(props.rotateFunction, day)],
          leftAnnotations: [{ value: props.timeout.toMilliseconds(), label: 'timeout' }],
          width: 12,
        }),
      ],
    ],
  });
};
