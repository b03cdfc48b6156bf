import { Stack, Validations } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/domain/config/errors.js';
import { outsidePrefix } from '../../infra/atlas-credentials.js';
import {
  bySid,
  DISABLE,
  logicalId,
  newApp,
  ROTATE,
  roleStatements,
  secretArnOf,
  synth,
  synthCustomized,
  synthDefault,
} from './support.js';

describe('keys and secrets, default deployment', () => {
  let template: Template;

  beforeAll(() => {
    ({ template } = synthDefault());
  });

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

  it('lets no key be granted except for AWS resources or by AWS services', () => {
    const keys = Object.values(template.findResources('AWS::KMS::Key'));
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(key.Properties.KeyPolicy.Statement).toContainEqual({
        Sid: 'DenyGrantsOutsideAwsServices',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'kms:CreateGrant',
        Resource: '*',
        Condition: {
          BoolIfExists: {
            'kms:GrantIsForAWSResource': 'false',
            'aws:PrincipalIsAWSService': 'false',
          },
        },
      });
    }
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
});

describe('credentials the config names', () => {
  let template: Template;

  beforeAll(() => {
    ({ template } = synthCustomized());
  });

  it('imports the credentials the config names and splits them between the functions', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    const arnOf = (name: string) => secretArnOf(`${name}-??????`);
    expect(bySid(roleStatements(template, ROTATE), 'ReadAtlasCredentials').Resource).toEqual(
      arnOf('team/atlas-api'),
    );
    expect(bySid(roleStatements(template, DISABLE), 'ReadAtlasCredentials').Resource).toEqual(
      arnOf('team/atlas-owner'),
    );
    expect(JSON.stringify(roleStatements(template, ROTATE))).not.toContain('atlas-owner');
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

describe('outsidePrefix', () => {
  it('refuses a name or ARN under the certificate prefix, naming the field', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:atlas-x509/admin-AbCdEf';
    for (const id of ['atlas-x509/admin', arn]) {
      expect(() => outsidePrefix('atlas.credentialsSecretId', id, 'atlas-x509/')).toThrow(
        ConfigError,
      );
    }
    expect(() => outsidePrefix('f', arn, 'atlas-x509/', 'rotation.config.json')).toThrow(
      'Invalid rotation config in rotation.config.json',
    );
  });

  it('returns an id outside the prefix unchanged', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:team/atlas-x509/api';
    expect(outsidePrefix('f', 'team/atlas-api', 'atlas-x509/')).toBe('team/atlas-api');
    // Only the name counts: an ARN whose name merely contains the prefix is outside it.
    expect(outsidePrefix('f', arn, 'atlas-x509/')).toBe(arn);
  });
});
