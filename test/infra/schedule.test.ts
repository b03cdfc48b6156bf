import { Duration, Stack } from 'aws-cdk-lib';
import { Capture, Match, type Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRotateEvent } from '../../functions/domain/request.js';
import { rotationSchedules } from '../../infra/schedule.js';
import { actions, logicalId, type Statement, synthCustomized, synthDefault } from './support.js';

describe('schedule, default deployment', () => {
  let template: Template;

  beforeAll(() => {
    ({ template } = synthDefault());
  });

  it('runs daily at 03:00 UTC in a flexible window, with few retries and a dead-letter queue', () => {
    const queue = logicalId(template, 'AWS::SQS::Queue');
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'Etc/UTC',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('RotateFunction'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queue, 'Arn'] } },
      },
    });
  });

  it('sends exactly {"scheduledTime": <scheduled time>}, which the handler accepts', () => {
    const input = new Capture();
    template.hasResourceProperties('AWS::Scheduler::Schedule', { Target: { Input: input } });
    expect(JSON.parse(input.asString())).toEqual({
      scheduledTime: '<aws.scheduler.scheduled-time>',
    });
    const delivered = input
      .asString()
      .replace('<aws.scheduler.scheduled-time>', '2026-11-28T03:00:00Z');
    expect(parseRotateEvent(JSON.parse(delivered))).toMatchObject({
      dryRun: false,
      force: false,
      scheduledTime: '2026-11-28T03:00:00Z',
    });
  });

  it('is invoked by a role that may invoke the rotate function only', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p).includes('SchedulerRole'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    expect(statements.flatMap(actions).sort()).toEqual([
      'lambda:InvokeFunction',
      'sqs:SendMessage',
    ]);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: { Service: 'scheduler.amazonaws.com' },
            Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
          }),
        ],
      },
    });
  });

  it('ticks a catch-up run every 20 minutes with {"catchUp": true}, retried only by the next tick', () => {
    const input = new Capture();
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(20 minutes)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      State: 'ENABLED',
      Target: {
        Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('RotateFunction'), 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 900 },
        Input: input,
      },
    });
    const delivered = input
      .asString()
      .replace('<aws.scheduler.scheduled-time>', '2026-11-28T03:20:00Z');
    expect(parseRotateEvent(JSON.parse(delivered))).toMatchObject({
      dryRun: false,
      trigger: 'catch-up',
    });
  });

  it('refuses a catch-up tick that could start while the run before is still at work', () => {
    const stack = new Stack();
    const fn = lambda.Function.fromFunctionAttributes(stack, 'Fn', {
      functionArn: 'arn:aws:lambda:us-east-1:111122223333:function:f',
      sameEnvironment: true,
    });
    const deadLetterQueue = new sqs.Queue(stack, 'Q');
    const schedules = (catchUpEvery: Duration) =>
      rotationSchedules(stack, { rotateFunction: fn, deadLetterQueue, catchUpEvery });
    expect(() => schedules(Duration.minutes(10))).toThrow(/at least 16 minutes/);
    expect(schedules(Duration.minutes(0)).catchUp).toBeUndefined();
  });

  describe('failure queue', () => {
    it('is encrypted and refuses plain HTTP', () => {
      template.hasResourceProperties('AWS::SQS::Queue', {
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 1_209_600,
      });
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    });
  });
});

describe('schedule, customized deployment', () => {
  let template: Template;

  beforeAll(() => {
    ({ template } = synthCustomized());
  });

  it('uses the given schedule, time zone, window and critical floor', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(30 1 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 30 },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'MinDaysToExpiry',
      Threshold: 10,
    });
  });
});
