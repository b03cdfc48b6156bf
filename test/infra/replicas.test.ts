import type { App, Stack } from 'aws-cdk-lib';
import { Annotations } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/domain/config/errors.js';
import type { RawConfig } from '../../functions/domain/config/schema.js';
import { replicaKeyResource, replicaStatements } from '../../infra/permissions.js';
import {
  actions,
  bySid,
  CERT_PREFIX_ARN,
  caught,
  exampleConfig,
  PROJECT_A,
  PROJECT_B,
  READER_A,
  READER_B,
  ROTATE,
  resources,
  roleStatements,
  type Statement,
  synth,
} from './support.js';

const ACCOUNT = '111122223333';
const ACCESS = { partition: 'aws', account: ACCOUNT };
const PATTERN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:atlas-x509/*';
const patternIn = (region: string) => PATTERN.replace(':us-east-1:', `:${region}:`);
const KEY_ARN = 'arn:aws:kms:ap-south-1:111122223333:key/mrk-1234abcd';

const withReplicas = (
  replicaRegions: NonNullable<NonNullable<RawConfig['defaults']>['replicaRegions']>,
): RawConfig => {
  const config = exampleConfig();
  return { ...config, defaults: { ...config.defaults, replicaRegions } };
};

describe('replica permissions, statement by statement', () => {
  it('names a replica key by ARN, by id in its Region, or by alias (held by kms:ResourceAliases)', () => {
    expect(replicaKeyResource({ region: 'ap-south-1', kmsKeyId: KEY_ARN }, ACCESS)).toEqual({
      resource: KEY_ARN,
    });
    expect(replicaKeyResource({ region: 'eu-west-1', kmsKeyId: 'mrk-9f' }, ACCESS)).toEqual({
      resource: 'arn:aws:kms:eu-west-1:111122223333:key/mrk-9f',
    });
    expect(replicaKeyResource({ region: 'eu-west-1', kmsKeyId: 'alias/certs' }, ACCESS)).toEqual({
      resource: 'arn:aws:kms:eu-west-1:111122223333:key/*',
      alias: 'alias/certs',
    });
    expect(
      replicaKeyResource(
        { region: 'eu-west-1', kmsKeyId: 'arn:aws:kms:eu-west-1:444455556666:alias/certs' },
        ACCESS,
      ),
    ).toEqual({ resource: 'arn:aws:kms:eu-west-1:444455556666:key/*', alias: 'alias/certs' });
    // The AWS managed key's policy already lets the account use it through Secrets Manager.
    for (const kmsKeyId of [undefined, 'alias/aws/secretsmanager']) {
      expect(replicaKeyResource({ region: 'eu-west-1', kmsKeyId }, ACCESS)).toBeUndefined();
    }
  });

  it('replicates to the configured Regions only, and uses each customer key via Secrets Manager there', () => {
    const statements = replicaStatements(
      {
        keys: [
          { region: 'eu-west-1', kmsKeyId: undefined },
          { region: 'us-west-2', kmsKeyId: 'alias/certs' },
          { region: 'ap-south-1', kmsKeyId: KEY_ARN },
        ],
        secretsArnPatternIn: patternIn,
        ...ACCESS,
      },
      PATTERN,
    ).map((s) => s.toStatementJson() as Statement);
    expect(statements.map((s) => s.Sid)).toEqual([
      'ReplicateCertificateSecrets',
      'UnreplicateOwnEmptySecrets',
      'EncryptReplicasUsWest2',
      'EncryptReplicasApSouth1',
    ]);
    expect(bySid(statements, 'ReplicateCertificateSecrets')).toEqual({
      Sid: 'ReplicateCertificateSecrets',
      Effect: 'Allow',
      Action: 'secretsmanager:ReplicateSecretToRegions',
      Resource: PATTERN,
      Condition: {
        'ForAllValues:StringEquals': {
          'secretsmanager:AddReplicaRegions': ['ap-south-1', 'eu-west-1', 'us-west-2'],
        },
        Bool: { 'secretsmanager:ForceOverwriteReplicaSecret': 'false' },
      },
    });
    expect(bySid(statements, 'UnreplicateOwnEmptySecrets').Condition).toEqual({
      StringEquals: {
        'secretsmanager:ResourceTag/atlas-x509-rotator:managed-by': 'atlas-x509-rotator',
      },
    });
    expect(bySid(statements, 'EncryptReplicasUsWest2')).toMatchObject({
      Action: ['kms:Encrypt', 'kms:GenerateDataKey'],
      Resource: 'arn:aws:kms:us-west-2:111122223333:key/*',
      Condition: {
        StringEquals: { 'kms:ViaService': 'secretsmanager.us-west-2.amazonaws.com' },
        StringLike: { 'kms:EncryptionContext:SecretARN': patternIn('us-west-2') },
        'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/certs' },
      },
    });
    const byArn = bySid(statements, 'EncryptReplicasApSouth1');
    expect(byArn.Resource).toBe(KEY_ARN);
    expect(byArn.Condition?.['ForAnyValue:StringEquals']).toBeUndefined();
    // Never Decrypt on a replica key: the rotator never reads a replica.
    expect(statements.flatMap(actions)).not.toContain('kms:Decrypt');
  });

  it('grants nothing for replicas without any', () => {
    expect(
      replicaStatements({ keys: [], secretsArnPatternIn: patternIn, ...ACCESS }, PATTERN),
    ).toEqual([]);
  });
});

describe('a deployment with replica Regions (one synth)', () => {
  let app: App;
  let stack: ReturnType<typeof synth>['stack'];
  let statements: Statement[];
  beforeAll(() => {
    const synthesized = synth({
      config: withReplicas(['eu-west-1', { region: 'us-west-2', kmsKeyId: 'alias/certs' }]),
      consumers: { [PROJECT_A]: [READER_A] },
    });
    ({ app, stack } = synthesized);
    statements = roleStatements(synthesized.template, ROTATE);
  });

  it('adds exactly the replica statements to the rotate role', () => {
    const replicate = bySid(statements, 'ReplicateCertificateSecrets');
    expect(resources(replicate)).toEqual([CERT_PREFIX_ARN]);
    expect(replicate.Condition).toEqual({
      'ForAllValues:StringEquals': {
        'secretsmanager:AddReplicaRegions': ['eu-west-1', 'us-west-2'],
      },
      Bool: { 'secretsmanager:ForceOverwriteReplicaSecret': 'false' },
    });
    expect(statements.map((s) => s.Sid).filter((s) => /eplica/.test(s ?? ''))).toEqual([
      'ReplicateCertificateSecrets',
      'UnreplicateOwnEmptySecrets',
      'EncryptReplicasUsWest2',
    ]);
    // The primary's statements are unchanged: its key, in its Region.
    expect(actions(bySid(statements, 'EncryptCertificateSecrets')).sort()).toEqual([
      'kms:Decrypt',
      'kms:Encrypt',
      'kms:GenerateDataKey',
    ]);
  });

  it('leaves cdk-nag nothing unacknowledged (the alias grant is acknowledged)', () => {
    expect(new AwsSolutionsChecks().validateScope(app).violations).toEqual([]);
  });

  it('hands out the key policy statement for consumers of a replica Region', () => {
    const json = stack.resolve(
      stack.rotation.replicaKeyPolicyStatement('us-west-2')?.toStatementJson(),
    );
    expect(json).toMatchObject({
      Sid: 'ConsumersDecryptCertificatesViaSecretsManager',
      Principal: { AWS: READER_A },
      Action: 'kms:Decrypt',
      Condition: {
        StringEquals: { 'kms:ViaService': 'secretsmanager.us-west-2.amazonaws.com' },
      },
    });
    expect(JSON.stringify(json.Condition.StringLike)).toContain(':secretsmanager:us-west-2:');
  });

  it('warns, in an environment-agnostic stack, that other accounts cannot use the AWS managed key', () => {
    Annotations.fromStack(stack as Stack).hasWarning(
      '*',
      `Replicas of project ${PROJECT_A} in eu-west-1 use the AWS managed key aws/secretsmanager: consumers in another account cannot read them. Name a customer managed key in replicaRegions[].kmsKeyId for those. [ack: atlas-x509-rotator:replica-key]`,
    );
  });
});

describe('replica Regions refused at synth, before anything is created', () => {
  const env = { account: ACCOUNT, region: 'us-east-1' };

  it('refuses the stack’s own Region, naming the field', () => {
    const err = caught(() => synth({ env, config: withReplicas(['eu-west-1', 'us-east-1']) }));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      'defaults.replicaRegions[1]: us-east-1 is the primary Region (where the rotator runs and the secrets live); list only other Regions',
    ]);
  });

  it('refuses consumers of another account when replicas use the AWS managed key', () => {
    const err = caught(() =>
      synth({
        env,
        config: withReplicas(['eu-west-1']),
        // READER_A is in this account; READER_B is not.
        consumers: {
          [PROJECT_A]: [`arn:aws:iam::${ACCOUNT}:role/local`],
          [PROJECT_B]: [READER_B],
        },
      }),
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      `consumers.${PROJECT_B}: ${READER_B} is in another account, and the replicas in eu-west-1 use the AWS managed key aws/secretsmanager, which no other account may use; name a customer managed key in replicaRegions[].kmsKeyId and add replicaKeyPolicyStatement(<region>) to its key policy`,
    ]);
  });
});
