import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/domain/config/errors.js';
import {
  type CredentialRotationProps,
  checkCredentialRotation,
  credentialRotationStatements,
  managedCredentialRotation,
} from '../../infra/managed-credential-rotation.js';
import type { AtlasX509RotatorStack } from '../../infra/stack.js';
import {
  actions,
  logicalId,
  newApp,
  ROTATE,
  resources,
  roleStatements,
  type Statement,
  secretArnOf,
  synth,
  VIA_SECRETS_MANAGER,
} from './support.js';

/**
 * `credentialRotation`: the rotator's own Atlas credential as a managed external secret that
 * Secrets Manager rotates (AWS user guide, mes-partner-MongoDBAtlasServiceAccount and
 * mes-security). cdk-nag, cfn-guard and cfn-lint check the same option through the cdk CLI, in
 * the synth check's static-egress variant (infra/synth-check.ts).
 */

const ADMIN_ARN =
  'arn:aws:secretsmanager:eu-west-1:111122223333:secret:atlas-admin/rotation-AbCdEf';
const TYPE = 'MongoDBAtlasServiceAccount';

type Role = {
  Properties: {
    AssumeRolePolicyDocument: { Statement: unknown[] };
    Policies: { PolicyDocument: { Statement: Statement[] } }[];
  };
};

describe('credentialRotation, admin-assisted, on the created credentials secret', () => {
  let stack: AtlasX509RotatorStack;
  let template: Template;
  let secretId: string;
  let keyId: string;
  let role: Role;
  beforeAll(() => {
    ({ stack, template } = synth({ credentialRotationAdminSecretArn: ADMIN_ARN }));
    secretId = logicalId(template, 'AWS::SecretsManager::Secret');
    keyId = logicalId(template, 'AWS::KMS::Key', {
      Description: Match.stringLikeRegexp('certificate secrets'),
    });
    const roleId = logicalId(template, 'AWS::IAM::Role', {
      Description: Match.stringLikeRegexp('^Secrets Manager rotates'),
    });
    role = template.toJSON().Resources[roleId] as Role;
  });

  it('creates the secret as a managed external secret holding {} for the operator to fill', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      Properties: {
        Type: TYPE,
        SecretString: '{}',
        Description: Match.stringLikeRegexp('"orgId"'),
        KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      },
      DeletionPolicy: 'Retain',
    });
  });

  it('schedules the rotation with its role and the admin secret, never rotating on deployment', () => {
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: secretId },
      RotationRules: { AutomaticallyAfterDays: 30 },
      RotateImmediatelyOnUpdate: false,
      ExternalSecretRotationRoleArn: {
        'Fn::GetAtt': [
          logicalId(template, 'AWS::IAM::Role', {
            Description: Match.stringLikeRegexp('^Secrets Manager rotates'),
          }),
          'Arn',
        ],
      },
      ExternalSecretRotationMetadata: [
        { Key: 'adminSecretArn', Value: ADMIN_ARN },
        { Key: 'apiVersion', Value: '2025-03-12' },
      ],
    });
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 1);
  });

  it('lets only Secrets Manager assume the role, for this account and this secret', () => {
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'secretsmanager.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': { Ref: secretId } },
        },
      },
    ]);
  });

  it('scopes the role to the secret, its key and the admin secret', () => {
    const statements = role.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement);
    expect(statements.map((s) => s.Sid)).toEqual([
      'RotateAtlasCredentials',
      'EncryptAtlasCredentials',
      'ReadRotationAdminCredentials',
      'GenerateRandomPasswords',
    ]);
    const [rotate, encrypt, admin, random] = statements as [
      Statement,
      Statement,
      Statement,
      Statement,
    ];
    expect(actions(rotate).sort()).toEqual([
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'secretsmanager:PutSecretValue',
      'secretsmanager:UpdateSecretVersionStage',
    ]);
    expect(resources(rotate)).toEqual([{ Ref: secretId }]);
    expect(rotate.Condition).toEqual({
      StringEquals: { 'secretsmanager:resource/Type': TYPE },
    });
    expect(actions(encrypt).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(resources(encrypt)).toEqual([{ 'Fn::GetAtt': [keyId, 'Arn'] }]);
    expect(encrypt.Condition).toEqual({
      StringEquals: { 'kms:ViaService': VIA_SECRETS_MANAGER },
      StringLike: { 'kms:EncryptionContext:SecretARN': { Ref: secretId } },
    });
    expect(admin).toMatchObject({ Action: 'secretsmanager:GetSecretValue', Resource: ADMIN_ARN });
    expect(random).toMatchObject({ Action: 'secretsmanager:GetRandomPassword', Resource: '*' });
  });

  it('gives the rotate function nothing of the admin secret, and names the role in an output', () => {
    expect(JSON.stringify(roleStatements(template, ROTATE))).not.toContain('atlas-admin');
    expect(Object.keys(template.findOutputs('CredentialsRotationRoleArn'))).toHaveLength(1);
    expect(stack.rotation.credentialsRotation?.schedule.rotateImmediatelyOnUpdate).toBe(false);
  });
});

describe('credentialRotation on a given secret, self-rotating', () => {
  it('schedules it by name, scoped to its ARN pattern, with no admin secret', () => {
    const stack = new Stack(newApp(), 'Bare');
    const secret = Secret.fromSecretNameV2(stack, 'Imported', 'team/atlas-api');

    managedCredentialRotation(stack, { secret, selfRotation: true, every: Duration.days(7) });

    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: 'team/atlas-api',
      RotationRules: { AutomaticallyAfterDays: 7 },
      ExternalSecretRotationMetadata: [{ Key: 'apiVersion', Value: '2025-03-12' }],
    });
    const role = Object.values(template.findResources('AWS::IAM::Role'))[0] as Role;
    const statements = role.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement);
    expect(statements.map((s) => s.Sid)).toEqual([
      'RotateAtlasCredentials',
      'GenerateRandomPasswords',
    ]);
    expect(resources(statements[0] as Statement)).toEqual([secretArnOf('team/atlas-api-??????')]);
  });

  it('refuses the credentials secret as its own admin secret', () => {
    const stack = new Stack(newApp(), 'Bare');
    const secret = Secret.fromSecretCompleteArn(stack, 'Imported', ADMIN_ARN);

    expect(() => managedCredentialRotation(stack, { secret, adminSecret: secret })).toThrow(
      'adminSecret is the credentials secret itself',
    );
  });
});

describe('credentialRotation refused at synth', () => {
  const stack = new Stack(newApp(), 'Bare');
  const admin = Secret.fromSecretCompleteArn(stack, 'Admin', ADMIN_ARN);
  const cases: [string, CredentialRotationProps, string][] = [
    ['no admin secret (the default is admin-assisted)', {}, 'needs adminSecret'],
    ['selfRotation: false without one', { selfRotation: false }, 'needs adminSecret'],
    ['both', { adminSecret: admin, selfRotation: true }, 'not both'],
    [
      'an admin secret imported by name',
      { adminSecret: Secret.fromSecretNameV2(stack, 'ByName', 'atlas-admin/rotation') },
      'import it by its complete ARN',
    ],
    [
      'an admin secret under the certificate prefix',
      {
        adminSecret: Secret.fromSecretCompleteArn(
          stack,
          'UnderPrefix',
          'arn:aws:secretsmanager:eu-west-1:111122223333:secret:atlas-x509/admin-AbCdEf',
        ),
      },
      'lies under defaults.secretNamePrefix',
    ],
    ['hours', { selfRotation: true, every: Duration.hours(36) }, 'every must be whole days'],
    ['over a year', { selfRotation: true, every: Duration.days(400) }, '1 to 365'],
    ['a bad API version', { selfRotation: true, apiVersion: 'latest' }, 'apiVersion must be'],
  ];

  it.each(cases)('%s', (_name, props, message) => {
    let error: unknown;
    try {
      checkCredentialRotation(props, 'atlas-x509/');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(String((error as Error).message)).toContain(message);
    expect(String((error as Error).message)).toContain('the credentialRotation property');
  });

  it('by the construct, before anything is created', () => {
    expect(() => synth({ credentialRotation: {} })).toThrow(/credentialRotation: admin-assisted/);
  });

  it('grants nothing of a key the secret does not have', () => {
    const statements = credentialRotationStatements({
      region: 'eu-west-1',
      credentials: { secretArn: ADMIN_ARN },
    });
    expect(statements.map((s) => s.sid)).toEqual([
      'RotateAtlasCredentials',
      'GenerateRandomPasswords',
    ]);
  });
});
