import { Duration } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/domain/config/resolve.js';
import { MIN_ROTATE_TIMEOUT_SECONDS } from '../../functions/domain/timing.js';
import { checkRotateTimeout } from '../../infra/rotate-function.js';
import type { AtlasX509RotatorStack } from '../../infra/stack.js';
import {
  actions,
  bySid,
  DISABLE,
  exampleConfig,
  logicalId,
  ROTATE,
  resources,
  roleStatements,
  synth,
  synthDefault,
} from './support.js';

describe('functions, default deployment', () => {
  let stack: AtlasX509RotatorStack;
  let template: Template;

  beforeAll(() => {
    ({ stack, template } = synthDefault());
  });

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

  describe('shipped config', () => {
    it('keeps the given config, and names the table and key alias the config names (D1)', () => {
      const shipped = stack.rotation.shippedConfig;
      const given = exampleConfig();
      expect(shipped.projects).toEqual(given.projects);
      expect(shipped.atlas?.baseUrl).toBe(given.atlas?.baseUrl);
      // Nothing filled in: the CLI run with the same file resolves the same names.
      expect(shipped.locks).toEqual(given.locks);
      expect(shipped.defaults).toEqual(given.defaults);
      expect(parseConfig(given).locks.tableName).toBe('atlas-x509-rotator-locks');
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: 'atlas-x509-rotator-locks',
      });
      expect(given.defaults?.kmsKeyId).toBe('alias/atlas-x509-rotator');
      template.hasResourceProperties('AWS::KMS::Alias', {
        AliasName: 'alias/atlas-x509-rotator',
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
});

describe('AtlasX509Rotation without the disable function', () => {
  it('deploys the rotate function only', () => {
    const { template } = synth({ includeDisableFunction: false });
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', { Description: ROTATE });
    expect(template.findOutputs('DisableFunctionName')).toEqual({});
  });
});

describe('checkRotateTimeout', () => {
  it('accepts the minimum and the lease itself, and nothing outside them', () => {
    expect(() =>
      checkRotateTimeout(Duration.seconds(MIN_ROTATE_TIMEOUT_SECONDS), 600),
    ).not.toThrow();
    expect(() => checkRotateTimeout(Duration.seconds(600), 600)).not.toThrow();
    expect(() => checkRotateTimeout(Duration.seconds(MIN_ROTATE_TIMEOUT_SECONDS - 1), 600)).toThrow(
      /too short to ever mint/,
    );
    expect(() => checkRotateTimeout(Duration.seconds(601), 600)).toThrow(
      'timeout (601 s) exceeds locks.leaseSeconds (600 s)',
    );
  });
});
