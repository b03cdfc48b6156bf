import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  MANAGED_BY_TAG,
  MANAGED_BY_VALUE,
} from '../../functions/adapters/aws/secret-store/tags.js';
import {
  alarmsPublishStatement,
  consumersDecryptStatement,
  DISABLE_EVENTS,
  disableStatements,
  putEventsStatement,
  ROTATE_EVENTS,
  readSecretStatements,
  rotateStatements,
} from '../../infra/permissions.js';
import {
  actions,
  bySid,
  CERT_PREFIX_ARN,
  DISABLE,
  logicalId,
  ROTATE,
  resources,
  roleStatements,
  type Statement,
  synthDefault,
  VIA_SECRETS_MANAGER,
} from './support.js';

describe('rotate function permissions', () => {
  let template: Template;
  let statements: Statement[];
  beforeAll(() => {
    ({ template } = synthDefault());
    statements = roleStatements(template, ROTATE);
  });

  it('manages certificate secrets under the configured prefix only', () => {
    const secrets = bySid(statements, 'ManageCertificateSecrets');
    expect(actions(secrets).sort()).toEqual(
      // CreateSecret, TagResource and PutResourcePolicy have conditioned statements of their
      // own (#25.4, permissions-own-secrets.test.ts).
      [
        'secretsmanager:DeleteResourcePolicy',
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetResourcePolicy',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:UpdateSecretVersionStage',
      ].sort(),
    );
    expect(resources(secrets)).toEqual([CERT_PREFIX_ARN]);
  });

  it('deletes (and lists versions of) only secrets under the prefix that carry its managed-by tag', () => {
    const del = bySid(statements, 'DeleteOwnEmptySecrets');
    expect([...actions(del)].sort()).toEqual([
      'secretsmanager:DeleteSecret',
      'secretsmanager:ListSecretVersionIds',
    ]);
    expect(resources(del)).toEqual([CERT_PREFIX_ARN]);
    // The tag the secret store writes on CreateSecret, with its value.
    expect(del.Condition).toEqual({
      StringEquals: {
        [`secretsmanager:ResourceTag/${MANAGED_BY_TAG}`]: MANAGED_BY_VALUE,
      },
    });
    expect(MANAGED_BY_TAG).toBe('atlas-x509-rotator:managed-by');
    // No other statement grants DeleteSecret.
    const deleting = statements.filter((s) => actions(s).includes('secretsmanager:DeleteSecret'));
    expect(deleting.map((s) => s.Sid)).toEqual(['DeleteOwnEmptySecrets']);
  });

  it('uses its key through Secrets Manager only, for those secrets', () => {
    const kms = bySid(statements, 'EncryptCertificateSecrets');
    expect([...actions(kms)].sort()).toEqual(['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']);
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

  it('takes and releases leases in its table, and reads its catch-up note', () => {
    const leases = bySid(statements, 'Leases');
    expect([...actions(leases)].sort()).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:DescribeTable',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
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
      'CreateOwnSecrets',
      'CreateOwnSecretsNamingNone',
      'TagCertificateSecrets',
      'PutConsumersPolicy',
      'DeleteOwnEmptySecrets',
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
        ((r.Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
          (p) => p.PolicyDocument.Statement,
        ),
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
  let template: Template;

  beforeAll(() => {
    ({ template } = synthDefault());
  });

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

// The builders on their own, with literal ARNs: no stack, no synth.
const REGION = 'eu-west-1';
const PATTERN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:atlas-x509/*';
const SECRET = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:team/atlas-api-??????';
const KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const BUS = 'arn:aws:events:eu-west-1:111122223333:event-bus/default';
const VIA = {
  StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' },
};
const json = (statements: { toStatementJson(): unknown }[]) =>
  statements.map((s) => s.toStatementJson());

describe('statement builders', () => {
  it('read a secret, and decrypt it via Secrets Manager only when it has its own key', () => {
    expect(json(readSecretStatements('Creds', { secretArn: SECRET }, REGION))).toEqual([
      {
        Sid: 'ReadCreds',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: SECRET,
      },
    ]);
    expect(
      json(readSecretStatements('Creds', { secretArn: SECRET, keyArn: KEY }, REGION))[1],
    ).toEqual({
      Sid: 'DecryptCreds',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: KEY,
      Condition: { ...VIA, StringLike: { 'kms:EncryptionContext:SecretARN': SECRET } },
    });
  });

  it('give the rotate role its statements in order, "*" only for ListSecrets', () => {
    const statements = json(
      rotateStatements({
        region: REGION,
        credentials: { secretArn: SECRET },
        eventBusArn: BUS,
        certificateSecretsArnPattern: PATTERN,
        certificateKeyArn: KEY,
        leaseTableArn: 'arn:aws:dynamodb:eu-west-1:111122223333:table/x-leases',
      }),
    ) as Statement[];
    expect(statements.map((s) => s.Sid)).toEqual([
      'ManageCertificateSecrets',
      'CreateOwnSecrets',
      'CreateOwnSecretsNamingNone',
      'TagCertificateSecrets',
      'PutConsumersPolicy',
      'DeleteOwnEmptySecrets',
      'IndexCertificateSecrets',
      'EncryptCertificateSecrets',
      'ReadAtlasCredentials',
      'Leases',
      'PutEventsOnDefaultBus',
    ]);
    expect(statements.filter((s) => resources(s).includes('*')).map((s) => s.Sid)).toEqual([
      'IndexCertificateSecrets',
    ]);
    expect(bySid(statements, 'EncryptCertificateSecrets').Condition).toEqual({
      ...VIA,
      StringLike: { 'kms:EncryptionContext:SecretARN': PATTERN },
    });
  });

  it('let each function put only its own events, on the given bus', () => {
    const own = (detailTypes: readonly string[]) => ({
      Resource: BUS,
      Condition: {
        StringEquals: { 'events:source': 'atlas-x509-rotator', 'events:detail-type': detailTypes },
      },
    });
    expect(putEventsStatement(BUS, ROTATE_EVENTS).toStatementJson()).toMatchObject(
      own(ROTATE_EVENTS),
    );
    const disable = json(
      disableStatements({ region: REGION, credentials: { secretArn: SECRET }, eventBusArn: BUS }),
    ) as Statement[];
    expect(disable.map((s) => s.Sid)).toEqual(['ReadAtlasCredentials', 'PutEventsOnDefaultBus']);
    expect(bySid(disable, 'PutEventsOnDefaultBus')).toMatchObject(own(DISABLE_EVENTS));
  });

  it('let consumers decrypt certificate secrets via Secrets Manager, and CloudWatch publish alarms', () => {
    const readers = ['arn:aws:iam::111122223333:role/a', 'arn:aws:iam::444455556666:role/b'];
    expect(consumersDecryptStatement(readers, REGION, PATTERN).toStatementJson()).toEqual({
      Sid: 'ConsumersDecryptCertificatesViaSecretsManager',
      Effect: 'Allow',
      Principal: { AWS: readers },
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { ...VIA, StringLike: { 'kms:EncryptionContext:SecretARN': PATTERN } },
    });
    const publish = alarmsPublishStatement();
    // A service principal renders as a token outside a stack: compare the principal itself.
    expect(publish.principals).toEqual([
      expect.objectContaining({ service: 'cloudwatch.amazonaws.com' }),
    ]);
    expect(publish.toStatementJson()).toMatchObject({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
    });
  });
});
