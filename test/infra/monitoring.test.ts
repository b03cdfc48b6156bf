import { Duration } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { alarmThresholds } from '../../infra/monitoring/alarms.js';
import * as metrics from '../../infra/monitoring/metrics.js';
import type { AtlasX509RotatorStack } from '../../infra/stack.js';
import { logicalId, render, synthCustomized, synthDefault } from './support.js';

describe('monitoring, default deployment', () => {
  let stack: AtlasX509RotatorStack;
  let template: Template;

  beforeAll(() => {
    ({ stack, template } = synthDefault());
  });

  describe('alarms', () => {
    const alarm = (name: string) => {
      const found = Object.values(
        template.findResources('AWS::CloudWatch::Alarm', {
          Properties: { AlarmName: Match.stringLikeRegexp(`-${name}$`) },
        }),
      );
      expect(found).toHaveLength(1);
      return found[0]?.Properties as Record<string, unknown>;
    };
    const topic = () => ({ Ref: logicalId(template, 'AWS::SNS::Topic') });
    const runMetric = (name: string) => ({
      Namespace: 'AtlasX509Rotator',
      MetricName: name,
      Dimensions: [
        { Name: 'deployment', Value: stack.rotation.namePrefix },
        { Name: 'service', Value: 'atlas-x509-rotator' },
      ],
    });

    it('fire on failed users and keep their state until the next run', () => {
      expect(alarm('FailedUsers')).toMatchObject({
        ...runMetric('FailedUsers'),
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        TreatMissingData: 'ignore',
        AlarmActions: [topic()],
        OKActions: [topic()],
      });
    });

    it('fire when a certificate is within the critical floor (the config criticalDays)', () => {
      expect(alarm('MinDaysToExpiry')).toMatchObject({
        ...runMetric('MinDaysToExpiry'),
        Statistic: 'Minimum',
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 7,
        TreatMissingData: 'ignore',
      });
    });

    it('fire when a run deferred a user with no certificate or one within criticalDays', () => {
      expect(alarm('DeferredCritical')).toMatchObject({
        ...runMetric('DeferredCritical'),
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        TreatMissingData: 'ignore',
        AlarmActions: [topic()],
        OKActions: [topic()],
      });
    });

    it('fire when Atlas refuses a mint for its per-user certificate limit', () => {
      expect(alarm('CertificateLimitReached')).toMatchObject({
        ...runMetric('CertificateLimitReached'),
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        TreatMissingData: 'ignore',
      });
    });

    it('fire when a secret was not read after its promotion, its previous certificate near expiry', () => {
      const stale = alarm('StaleConsumers');
      expect(stale).toMatchObject({
        ...runMetric('StaleConsumers'),
        Statistic: 'Maximum',
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        EvaluationPeriods: 1,
        TreatMissingData: 'ignore',
        AlarmActions: [topic()],
        OKActions: [topic()],
      });
      expect(stale.AlarmDescription).toContain('docs/runbook.md');
    });

    // #25.3: DeferredUsers counted structural deferral of users far from renewal, and paged.
    it('fire when the at-risk deferred count holds or grows on 3 of 4 days (metric math on DeferredAtRisk)', () => {
      const stagnant = alarm('DeferredNotShrinking');
      expect(stagnant).toMatchObject({
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        EvaluationPeriods: 4,
        DatapointsToAlarm: 3,
        TreatMissingData: 'notBreaching',
        AlarmActions: [topic()],
        OKActions: [topic()],
      });
      expect(stagnant.MetricName).toBeUndefined();
      const queries = stagnant.Metrics as Record<string, unknown>[];
      const expression = queries.find((q) => q.Expression);
      expect(expression).toMatchObject({
        Expression: 'IF(deferred > 0 AND DIFF(deferred) >= 0, 1, 0)',
        ReturnData: true,
      });
      expect(queries.find((q) => q.Id === 'deferred')).toMatchObject({
        MetricStat: {
          Metric: runMetric('DeferredAtRisk'),
          Period: 86_400,
          Stat: 'Maximum',
        },
        ReturnData: false,
      });
    });

    it('fire when no run completed for 26 hours, silence included', () => {
      expect(alarm('NoCompletedRun')).toMatchObject({
        ...runMetric('RunCompleted'),
        Statistic: 'Sum',
        Period: 3600,
        EvaluationPeriods: 26,
        DatapointsToAlarm: 26,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        TreatMissingData: 'breaching',
      });
    });

    it('fire when the rotator credential expires within 14 days, and not without data', () => {
      const credential = alarm('AtlasCredentialExpiry');
      expect(credential).toMatchObject({
        ...runMetric('AtlasCredentialDaysToExpiry'),
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 14,
        TreatMissingData: 'notBreaching',
        AlarmActions: [topic()],
      });
      expect(credential.OKActions).toBeUndefined();
    });

    it('fire on rotate function errors and on a non-empty failure queue', () => {
      expect(alarm('RotateFunctionErrors')).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [
          { Name: 'FunctionName', Value: { Ref: expect.stringMatching(/RotateFunction/) } },
        ],
        ComparisonOperator: 'GreaterThanThreshold',
        Threshold: 0,
        TreatMissingData: 'notBreaching',
      });
      expect(alarm('FailureQueueNotEmpty')).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [
          {
            Name: 'QueueName',
            Value: { 'Fn::GetAtt': [logicalId(template, 'AWS::SQS::Queue'), 'QueueName'] },
          },
        ],
        Threshold: 0,
        TreatMissingData: 'notBreaching',
      });
    });

    it('publish to a topic under a customer managed key CloudWatch may use, SSL only', () => {
      template.resourceCountIs('AWS::CloudWatch::Alarm', 10);
      const key = logicalId(template, 'AWS::KMS::Key', {
        Description: Match.stringLikeRegexp('alarm topic'),
      });
      template.hasResourceProperties('AWS::SNS::Topic', {
        KmsMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
      });
      template.hasResourceProperties('AWS::KMS::Key', {
        Description: Match.stringLikeRegexp('alarm topic'),
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
            }),
          ]),
        },
      });
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
      template.resourceCountIs('AWS::SNS::Subscription', 0);
    });
  });

  describe('dashboard', () => {
    it('shows days to expiry, rotations and failures over time', () => {
      const body = render(
        stack,
        template.toJSON().Resources[logicalId(template, 'AWS::CloudWatch::Dashboard')].Properties
          .DashboardBody,
      );
      for (const text of [
        'Days to expiry',
        '\\"MinDaysToExpiry\\"',
        '\\"AtlasCredentialDaysToExpiry\\"',
        'Rotations per day',
        '\\"RotatedUsers\\"',
        'Failures per day',
        '\\"FailedUsers\\"',
        '\\"Orphans\\"',
        '\\"RunCompleted\\"',
        'Deferred users',
        '\\"DeferredCritical\\"',
        '\\"DeferredAtRisk\\"',
        '\\"UsersWithoutCertificate\\"',
        '\\"RunNotStarted\\"',
        'DIFF(deferred)',
        'Orphaned certificates',
        '\\"StandingOrphans\\"',
        '\\"DriftRepaired\\"',
        '\\"StaleConsumers\\"',
        '\\"CertificateLimitReached\\"',
        '\\"VerifyBypassed\\"',
      ]) {
        expect(body).toContain(text);
      }
    });
  });
});

describe('alarms, customized deployment', () => {
  let template: Template;

  beforeAll(() => {
    ({ template } = synthCustomized());
  });

  it('subscribes the alarm email', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });

  it('alarms, with a project verify.uri, on a certificate made current past a failed login check', () => {
    const found = Object.values(
      template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { AlarmName: Match.stringLikeRegexp('-VerifyBypassed$') },
      }),
    );
    expect(found).toHaveLength(1);
    expect(found[0]?.Properties).toMatchObject({
      Namespace: 'AtlasX509Rotator',
      MetricName: 'VerifyBypassed',
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      TreatMissingData: 'notBreaching',
      AlarmDescription: expect.stringContaining('docs/runbook.md'),
    });
    expect(found[0]?.Properties.OKActions).toBeUndefined();
    // The default deployment checks no login, and has no such alarm (its count is asserted above).
    expect(
      Object.keys(
        synthDefault().template.findResources('AWS::CloudWatch::Alarm', {
          Properties: { AlarmName: Match.stringLikeRegexp('-VerifyBypassed$') },
        }),
      ),
    ).toEqual([]);
  });
});

describe('alarmThresholds', () => {
  it('defaults to the config criticalDays, 14 days and 26 hours', () => {
    expect(alarmThresholds({}, 7)).toEqual({
      criticalDays: 7,
      credentialWarningDays: 14,
      heartbeatHours: 26,
    });
    expect(alarmThresholds({ criticalDays: 10, credentialWarningDays: 30 }, 7)).toMatchObject({
      criticalDays: 10,
      credentialWarningDays: 30,
    });
  });

  it('rounds the heartbeat up to whole hours and refuses 0 or more than 7 days', () => {
    expect(alarmThresholds({ heartbeat: Duration.minutes(61) }, 7).heartbeatHours).toBe(2);
    expect(alarmThresholds({ heartbeat: Duration.days(7) }, 7).heartbeatHours).toBe(168);
    expect(() => alarmThresholds({ heartbeat: Duration.minutes(0) }, 7)).toThrow(
      'heartbeat: 0 hours',
    );
    expect(() => alarmThresholds({ heartbeat: Duration.hours(169) }, 7)).toThrow(
      'heartbeat: 169 hours; use 1 to 168 hours',
    );
  });
});

describe('metric factory', () => {
  it("reads one deployment's run metrics, hourly unless told, daily ones labelled", () => {
    const own = metrics.deploymentMetrics('team-a');
    expect(own.run('FailedUsers', 'Maximum')).toMatchObject({
      namespace: 'AtlasX509Rotator',
      metricName: 'FailedUsers',
      dimensions: { service: 'atlas-x509-rotator', deployment: 'team-a' },
      statistic: 'Maximum',
    });
    expect(own.run('FailedUsers', 'Maximum').period.toHours()).toBe(1);
    const daily = own.daily('RotatedUsers', 'Sum', 'rotated');
    expect(daily.period.toDays()).toBe(1);
    expect(daily.label).toBe('rotated');
  });
});
