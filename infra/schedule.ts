import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { acknowledge, wildcardResourceFinding } from './nag.js';

const DEFAULT_SCHEDULE = 'cron(0 3 * * ? *)';

export interface RotationScheduleProps {
  readonly rotateFunction: lambda.IFunction;
  /** Receives the invocations Scheduler could not deliver. */
  readonly deadLetterQueue: sqs.IQueue;
  /** @default daily at 03:00 UTC */
  readonly schedule?: scheduler.ScheduleExpression | undefined;
  /** @default Duration.minutes(15); zero turns the window off */
  readonly scheduleWindow?: Duration | undefined;
  /** @default true */
  readonly scheduleEnabled?: boolean | undefined;
}

/** The EventBridge Scheduler schedule that invokes the rotate function, through its own role. */
export const rotationSchedule = (
  scope: Construct,
  props: RotationScheduleProps,
): scheduler.Schedule => {
  const role = new iam.Role(scope, 'SchedulerRole', {
    assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
    description: 'EventBridge Scheduler: invokes the atlas-x509-rotator rotate function',
  });
  acknowledge(
    role,
    wildcardResourceFinding(scope, `${props.rotateFunction.functionArn}:*`),
    'Added by the Scheduler Lambda target (grantInvoke): the function itself and its versions/aliases, nothing else.',
  );
  const window = props.scheduleWindow ?? Duration.minutes(15);
  return new scheduler.Schedule(scope, 'Schedule', {
    description: 'atlas-x509-rotator: rotates certificates that are due',
    schedule:
      props.schedule ?? scheduler.ScheduleExpression.expression(DEFAULT_SCHEDULE, TimeZone.ETC_UTC),
    timeWindow:
      window.toMinutes() > 0 ? scheduler.TimeWindow.flexible(window) : scheduler.TimeWindow.off(),
    enabled: props.scheduleEnabled ?? true,
    target: new schedulerTargets.LambdaInvoke(props.rotateFunction, {
      role,
      // The handler's schema accepts exactly this (functions/domain/request.ts).
      input: scheduler.ScheduleTargetInput.fromObject({
        scheduledTime: scheduler.ContextAttribute.scheduledTime,
      }),
      // Scheduler's defaults (185 attempts over 24 h) would pile up runs; tomorrow's run
      // is the real retry.
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
      deadLetterQueue: props.deadLetterQueue,
    }),
  });
};
