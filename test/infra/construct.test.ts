import { Duration, Stack, TimeZone, Validations } from 'aws-cdk-lib';
import { Capture, Match, type Template } from 'aws-cdk-lib/assertions';
import { AccountRootPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/domain/config.js';
import { parseRotateEvent } from '../../functions/domain/request.js';
import type { AtlasX509RotatorStack } from '../../infra/stack.js';
import {
  exampleConfig,
  logicalId,
  newApp,
  PROJECT_A,
  PROJECT_B,
  READER_A,
  READER_B,
  synth,
} from './support.js';

type Statement = {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

const ROTATE = Match.stringLikeRegexp('^atlas-x509-rotator: rotates');
const DISABLE = Match.stringLikeRegexp('^atlas-x509-rotator: disables');

/** The function's role's inline statements, by function description. */
const roleStatements = (template: Template, description: object): Statement[] => {
  const fn = Object.values(
    template.findResources('AWS::Lambda::Function', { Properties: { Description: description } }),
  )[0] as { Properties: { Role: { 'Fn::GetAtt': [string, string] } } };
  const roleId = fn.Properties.Role['Fn::GetAtt'][0];
  const role = template.toJSON().Resources[roleId] as {
    Properties: { Policies: { PolicyDocument: { Statement: Statement[] } }[] };
  };
  return role.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement);
};

const actions = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resources = (s: Statement): unknown[] =>
  Array.isArray(s.Resource) ? s.Resource : [s.Resource];
const bySid = (statements: Statement[], sid: string): Statement => {
  const found = statements.find((s) => s.Sid === sid);
  if (!found) throw new Error(`no statement ${sid}`);
  return found;
};

/** Renders a resolved value with its references, for string checks. */
const render = (stack: Stack, value: unknown): string => JSON.stringify(stack.resolve(value));

const CERT_PREFIX_ARN = {
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':secretsmanager:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':secret:atlas-x509/*',
    ],
  ],
};
const VIA_SECRETS_MANAGER = {
  'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
};

describe('AtlasX509Rotation, default deployment', () => {
  let stack: AtlasX509RotatorStack;
  let template: Template;

  beforeAll(() => {
    ({ stack, template } = synth());
  });

  describe('functions', () => {
    it('run ESM handlers on Node 24, arm64, with source maps enabled', () => {
      for (const description of [ROTATE, DISABLE]) {
        template.hasResourceProperties('AWS::Lambda::Function', {
          Description: description,
          Runtime: 'nodejs24.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          Environment: { Variables: Match.objectLike({ NODE_OPTIONS: '--enable-source-maps' }) },
        });
      }
    });

    it('have no reserved concurrency (leases make overlapping runs safe)', () => {
      const functions = template.findResources('AWS::Lambda::Function');
      expect(Object.keys(functions)).toHaveLength(2);
      for (const fn of Object.values(functions)) {
        expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
      }
    });

    it('give the rotate function 10 minutes and 512 MB, within the lease', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Description: ROTATE,
        Timeout: 600,
        MemorySize: 512,
      });
      expect(stack.rotation.deployedConfig.locks.leaseSeconds).toBeGreaterThanOrEqual(600);
    });

    it('never retry asynchronous invokes, and send rotate failures to the failure queue', () => {
      const queue = logicalId(template, 'AWS::SQS::Queue');
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: Match.stringLikeRegexp('RotateFunction') },
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 3600,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queue, 'Arn'] } } },
      });
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: Match.stringLikeRegexp('DisableCustomerX509Function') },
        MaximumRetryAttempts: 0,
      });
    });

    it('write to explicit log groups with retention, through roles without managed policies', () => {
      template.resourceCountIs('AWS::Logs::LogGroup', 2);
      template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
      for (const description of [ROTATE, DISABLE]) {
        const logs = bySid(roleStatements(template, description), 'WriteOwnLogs');
        expect(actions(logs)).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
        expect(resources(logs)).toEqual([
          { 'Fn::GetAtt': [expect.stringMatching(/LogGroup/), 'Arn'] },
        ]);
      }
      for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
        expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      }
    });
  });

  describe('shipped config', () => {
    it('keeps the given config and fills in what the stack owns', () => {
      const shipped = stack.rotation.shippedConfig;
      const given = exampleConfig();
      expect(shipped.projects).toEqual(given.projects);
      expect(shipped.atlas?.baseUrl).toBe(given.atlas?.baseUrl);
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: shipped.locks?.tableName,
      });
      template.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: shipped.defaults?.kmsKeyId,
        TargetKeyId: {
          'Fn::GetAtt': [
            logicalId(template, 'AWS::KMS::Key', {
              Description: Match.stringLikeRegexp('certificate secrets'),
            }),
            'Arn',
          ],
        },
      });
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        Name: shipped.atlas?.credentialsSecretId,
      });
      expect(shipped.atlas?.disableCredentialsSecretId).toBeUndefined();
      // What the function will parse: the same schema, no complaint.
      expect(() => parseConfig(shipped)).not.toThrow();
    });
  });

  describe('schedule', () => {
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

  describe('lease table', () => {
    it('is keyed by pk, on demand, with TTL, point-in-time recovery and encryption', () => {
      template.hasResource('AWS::DynamoDB::Table', {
        Properties: {
          KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
          AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
          BillingMode: 'PAY_PER_REQUEST',
          TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          SSESpecification: { SSEEnabled: true },
        },
        DeletionPolicy: 'Delete',
      });
    });
  });

  describe('keys and secrets', () => {
    it('encrypts certificate secrets with a rotating customer managed key that is retained', () => {
      template.hasResource('AWS::KMS::Key', {
        Properties: {
          Description: Match.stringLikeRegexp('certificate secrets'),
          EnableKeyRotation: true,
        },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    });

    it('creates the credentials secret holding {} under that key, retained, for the operator to fill', () => {
      template.hasResource('AWS::SecretsManager::Secret', {
        Properties: {
          SecretString: '{}',
          KmsKeyId: {
            'Fn::GetAtt': [
              logicalId(template, 'AWS::KMS::Key', {
                Description: Match.stringLikeRegexp('certificate secrets'),
              }),
              'Arn',
            ],
          },
        },
        DeletionPolicy: 'Retain',
      });
    });

    it('has no consumer statement and no ROTATOR_CONSUMERS without consumers', () => {
      expect(JSON.stringify(template.toJSON())).not.toContain('ROTATOR_CONSUMERS');
      expect(JSON.stringify(template.toJSON())).not.toContain('ConsumersDecrypt');
    });
  });

  describe('rotate function permissions', () => {
    let statements: Statement[];
    beforeAll(() => {
      statements = roleStatements(template, ROTATE);
    });

    it('manages certificate secrets under the configured prefix only', () => {
      const secrets = bySid(statements, 'ManageCertificateSecrets');
      expect(actions(secrets).sort()).toEqual(
        [
          'secretsmanager:CreateSecret',
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutResourcePolicy',
          'secretsmanager:PutSecretValue',
          'secretsmanager:TagResource',
          'secretsmanager:UpdateSecretVersionStage',
        ].sort(),
      );
      expect(resources(secrets)).toEqual([CERT_PREFIX_ARN]);
    });

    it('uses its key through Secrets Manager only, for those secrets', () => {
      const kms = bySid(statements, 'EncryptCertificateSecrets');
      expect(actions(kms)).toEqual(['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey']);
      expect(kms.Condition).toEqual({
        StringEquals: { 'kms:ViaService': VIA_SECRETS_MANAGER },
        StringLike: { 'kms:EncryptionContext:SecretARN': CERT_PREFIX_ARN },
      });
    });

    it('reads (only reads) the credentials secret', () => {
      const secretId = logicalId(template, 'AWS::SecretsManager::Secret');
      const read = bySid(statements, 'ReadAtlasCredentials');
      expect(actions(read)).toEqual(['secretsmanager:GetSecretValue']);
      expect(resources(read)).toEqual([{ Ref: secretId }]);
      const decrypt = bySid(statements, 'DecryptAtlasCredentials');
      expect(actions(decrypt)).toEqual(['kms:Decrypt']);
      expect(decrypt.Condition?.StringLike).toEqual({
        'kms:EncryptionContext:SecretARN': { Ref: secretId },
      });
    });

    it('takes and releases leases in its table', () => {
      const leases = bySid(statements, 'Leases');
      expect(actions(leases)).toEqual([
        'dynamodb:DescribeTable',
        'dynamodb:PutItem',
        'dynamodb:DeleteItem',
      ]);
      expect(resources(leases)).toEqual([
        { 'Fn::GetAtt': [logicalId(template, 'AWS::DynamoDB::Table'), 'Arn'] },
      ]);
    });

    it('puts its own events on the default bus', () => {
      const events = bySid(statements, 'PutEventsOnDefaultBus');
      expect(actions(events)).toEqual(['events:PutEvents']);
      expect(JSON.stringify(events.Resource)).toContain(':event-bus/default');
      expect(events.Condition).toEqual({
        StringEquals: {
          'events:source': 'atlas-x509-rotator',
          'events:detail-type': [
            'Atlas X509 Certificate Rotated',
            'Atlas X509 Rotation Failed',
            'Atlas X509 Certificate Approaching Expiry',
          ],
        },
      });
    });

    it('lists secrets (unscopable) and has nothing else on "*", no wildcard action (no VPC)', () => {
      expect(bySid(statements, 'IndexCertificateSecrets')).toMatchObject({
        Action: 'secretsmanager:ListSecrets',
        Resource: '*',
      });
      for (const s of statements) {
        expect(actions(s).filter((a) => a.endsWith('*'))).toEqual([]);
        if (s.Sid !== 'IndexCertificateSecrets') expect(resources(s)).not.toContain('*');
      }
      expect(statements.map((s) => s.Sid)).toEqual([
        'WriteOwnLogs',
        'ManageCertificateSecrets',
        'IndexCertificateSecrets',
        'EncryptCertificateSecrets',
        'ReadAtlasCredentials',
        'DecryptAtlasCredentials',
        'Leases',
        'PutEventsOnDefaultBus',
      ]);
    });

    it('grants no secretsmanager:* and, on "*", only ListSecrets, anywhere in the stack', () => {
      const all = [
        ...Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
          (p) => p.Properties.PolicyDocument.Statement as Statement[],
        ),
        ...Object.values(template.findResources('AWS::IAM::Role')).flatMap((r) =>
          (
            (r.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]
          ).flatMap((p) => p.PolicyDocument.Statement),
        ),
      ];
      const onStar = all
        .filter((s) => resources(s).includes('*'))
        .flatMap(actions)
        .filter((a) => a.startsWith('secretsmanager:'));
      expect(onStar).toEqual(['secretsmanager:ListSecrets']);
      for (const s of all) expect(actions(s)).not.toContain('secretsmanager:*');
    });
  });

  describe('disable function permissions', () => {
    it('reads and decrypts its credential, puts its one event, and nothing else', () => {
      const statements = roleStatements(template, DISABLE);
      expect(statements.map((s) => [s.Sid, actions(s)])).toEqual([
        ['WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents']],
        ['ReadAtlasCredentials', ['secretsmanager:GetSecretValue']],
        ['DecryptAtlasCredentials', ['kms:Decrypt']],
        ['PutEventsOnDefaultBus', ['events:PutEvents']],
      ]);
      expect(bySid(statements, 'PutEventsOnDefaultBus').Condition?.StringEquals).toEqual({
        'events:source': 'atlas-x509-rotator',
        'events:detail-type': ['Atlas Customer X509 Disabled'],
      });
      // And no attached policy adds anything (the rotate role has one: its destination queue).
      const attached = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
        JSON.stringify(p.Properties.Roles).includes('DisableCustomerX509Role'),
      );
      expect(attached).toEqual([]);
    });
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
      Dimensions: [{ Name: 'service', Value: 'atlas-x509-rotator' }],
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
      template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
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
      ]) {
        expect(body).toContain(text);
      }
    });
  });

  describe('network', () => {
    it('has no VPC, NAT gateway, Elastic IP or egress output by default', () => {
      for (const type of ['AWS::EC2::VPC', 'AWS::EC2::NatGateway', 'AWS::EC2::EIP']) {
        template.resourceCountIs(type, 0);
      }
      expect(template.findOutputs('EgressIp')).toEqual({});
      for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
        expect(fn.Properties.VpcConfig).toBeUndefined();
      }
    });
  });
});

describe('AtlasX509Rotation, static egress IP, consumers, imported credentials', () => {
  let template: Template;

  beforeAll(() => {
    const config = exampleConfig();
    ({ template } = synth({
      config: {
        ...config,
        atlas: {
          ...config.atlas,
          credentialsSecretId: 'team/atlas-api',
          disableCredentialsSecretId: 'team/atlas-owner',
        },
      },
      staticEgressIp: true,
      consumers: { [PROJECT_A]: [READER_A], [PROJECT_B]: [READER_B, READER_A] },
      alarmEmail: 'oncall@example.com',
      schedule: ScheduleExpression.expression('cron(30 1 ? * MON-FRI *)', TimeZone.EUROPE_BERLIN),
      scheduleWindow: Duration.minutes(30),
      criticalDays: 10,
    }));
  });

  it('puts both functions in a VPC whose one NAT gateway has the Elastic IP, and outputs it', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::EC2::EIP', 1);
    const eip = logicalId(template, 'AWS::EC2::EIP');
    template.hasResourceProperties('AWS::EC2::NatGateway', {
      AllocationId: { 'Fn::GetAtt': [eip, 'AllocationId'] },
    });
    template.hasOutput('EgressIp', { Value: { 'Fn::GetAtt': [eip, 'PublicIp'] } });
    const group = logicalId(template, 'AWS::EC2::SecurityGroup');
    template.allResourcesProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SecurityGroupIds: [{ 'Fn::GetAtt': [group, 'GroupId'] }],
        SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('EgressSubnet') }]),
      },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupEgress: [Match.objectLike({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443 })],
    });
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
  });

  it('lets the functions manage their network interfaces', () => {
    const rotate = roleStatements(template, ROTATE);
    expect(bySid(rotate, 'ManageVpcNetworkInterfaces').Resource).toBe('*');
    expect(actions(bySid(rotate, 'ManageVpcNetworkInterfaces'))).toContain(
      'ec2:CreateNetworkInterface',
    );
  });

  it('lets consumers decrypt certificate secrets through Secrets Manager only', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      Description: Match.stringLikeRegexp('certificate secrets'),
      KeyPolicy: {
        Statement: Match.arrayWith([
          {
            Sid: 'ConsumersDecryptCertificatesViaSecretsManager',
            Effect: 'Allow',
            Principal: { AWS: [READER_A, READER_B] },
            Action: 'kms:Decrypt',
            Resource: '*',
            Condition: {
              StringEquals: { 'kms:ViaService': VIA_SECRETS_MANAGER },
              StringLike: { 'kms:EncryptionContext:SecretARN': CERT_PREFIX_ARN },
            },
          },
        ]),
      },
    });
  });

  it('passes the consumers to the rotate function as ROTATOR_CONSUMERS', () => {
    const env = new Capture();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: ROTATE,
      Environment: { Variables: env },
    });
    expect(JSON.parse(env.asObject().ROTATOR_CONSUMERS)).toEqual({
      [PROJECT_A]: [READER_A],
      [PROJECT_B]: [READER_B, READER_A],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: DISABLE,
      Environment: {
        Variables: Match.not(Match.objectLike({ ROTATOR_CONSUMERS: Match.anyValue() })),
      },
    });
  });

  it('imports the credentials the config names and splits them between the functions', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    const arnOf = (name: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':secretsmanager:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:secret:${name}-??????`,
        ],
      ],
    });
    expect(bySid(roleStatements(template, ROTATE), 'ReadAtlasCredentials').Resource).toEqual(
      arnOf('team/atlas-api'),
    );
    expect(bySid(roleStatements(template, DISABLE), 'ReadAtlasCredentials').Resource).toEqual(
      arnOf('team/atlas-owner'),
    );
    expect(JSON.stringify(roleStatements(template, ROTATE))).not.toContain('atlas-owner');
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

  it('subscribes the alarm email', () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });
});

describe('AtlasX509Rotation, consumers defined in the same app', () => {
  it('accepts role ARNs that resolve only at deploy time', () => {
    const app = newApp();
    const reader = new Role(new Stack(app, 'Apps'), 'Reader', {
      assumedBy: new AccountRootPrincipal(),
    });
    const { stack, template } = synth({ consumers: { [PROJECT_A]: [reader.roleArn] } }, app);
    const env = new Capture();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: ROTATE,
      Environment: { Variables: env },
    });
    expect(render(stack, env.asObject().ROTATOR_CONSUMERS)).toContain('Fn::ImportValue');
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'ConsumersDecryptCertificatesViaSecretsManager',
            Principal: { AWS: { 'Fn::ImportValue': Match.anyValue() } },
          }),
        ]),
      },
    });
  });
});

describe('AtlasX509Rotation without the disable function', () => {
  it('deploys the rotate function only', () => {
    const { template } = synth({ includeDisableFunction: false });
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', { Description: ROTATE });
    expect(template.findOutputs('DisableFunctionName')).toEqual({});
  });
});

describe('AtlasX509Rotation, given secrets', () => {
  it('ships an imported secret by its complete ARN and may decrypt it with its key', () => {
    const app = newApp();
    const shared = new Stack(app, 'Shared');
    Validations.of(shared).acknowledge({
      id: 'CloudFormation-Validate::F0001',
      reason: 'A stack that only imports, for this test: it has no resources.',
    });
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:team/atlas-api-AbCdEf';
    const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const secret = Secret.fromSecretAttributes(shared, 'Imported', {
      secretCompleteArn: arn,
      encryptionKey: Key.fromKeyArn(shared, 'ImportedKey', keyArn),
    });
    const { stack, template } = synth({ credentialsSecret: secret }, app);
    expect(stack.rotation.shippedConfig.atlas?.credentialsSecretId).toBe(arn);
    const statements = roleStatements(template, ROTATE);
    expect(bySid(statements, 'ReadAtlasCredentials').Resource).toBe(arn);
    expect(bySid(statements, 'DecryptAtlasCredentials')).toMatchObject({
      Action: 'kms:Decrypt',
      Resource: keyArn,
      Condition: { StringLike: { 'kms:EncryptionContext:SecretARN': arn } },
    });
  });

  it('refuses a secret whose id is only known at deploy time', () => {
    const app = newApp();
    const secret = new Secret(new Stack(app, 'Shared'), 'Elsewhere');
    expect(() => synth({ credentialsSecret: secret }, app)).toThrow(
      /credentialsSecretId is only known at deploy time/,
    );
  });
});
