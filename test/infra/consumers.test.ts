import { Stack } from 'aws-cdk-lib';
import { Capture, Match, type Template } from 'aws-cdk-lib/assertions';
import { AccountRootPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/domain/config/errors.js';
import { checkConsumers, consumerPrincipals } from '../../infra/consumers.js';
import {
  CERT_PREFIX_ARN,
  DISABLE,
  newApp,
  PROJECT_A,
  PROJECT_B,
  READER_A,
  READER_B,
  ROTATE,
  render,
  synth,
  synthCustomized,
  synthDefault,
  VIA_SECRETS_MANAGER,
} from './support.js';

describe('consumers, default deployment', () => {
  let template: Template;

  beforeAll(() => {
    ({ template } = synthDefault());
  });

  it('has no consumer statement and no ROTATOR_CONSUMERS without consumers', () => {
    expect(JSON.stringify(template.toJSON())).not.toContain('ROTATOR_CONSUMERS');
    expect(JSON.stringify(template.toJSON())).not.toContain('ConsumersDecrypt');
  });
});

describe('consumers, customized deployment', () => {
  let template: Template;

  beforeAll(() => {
    ({ template } = synthCustomized());
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
    // A weak cross-stack reference (cdk.json: `@aws-cdk/core:defaultCrossStackReferences`): the
    // producing stack's output, read at deploy time, with no export locking it.
    expect(render(stack, env.asObject().ROTATOR_CONSUMERS)).toContain('Fn::GetStackOutput');
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'ConsumersDecryptCertificatesViaSecretsManager',
            Principal: { AWS: { 'Fn::GetStackOutput': Match.anyValue() } },
          }),
        ]),
      },
    });
  });
});

describe('checkConsumers and consumerPrincipals', () => {
  it('accepts consumers of configured projects, tokens included', () => {
    expect(() => checkConsumers({ [PROJECT_A]: [READER_A] }, [PROJECT_A, PROJECT_B])).not.toThrow();
    expect(() => checkConsumers({}, [])).not.toThrow();
  });

  it('names the property, not the environment variable, in its errors', () => {
    try {
      checkConsumers({ [PROJECT_A]: ['app1-reader'] }, [PROJECT_A]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toContain('the consumers property');
      expect((err as ConfigError).issues[0]).toMatch(
        new RegExp(`^consumers\\.${PROJECT_A}\\[0\\]`),
      );
    }
  });

  it('lists each principal once, in first-seen order', () => {
    expect(
      consumerPrincipals({ [PROJECT_A]: [READER_A], [PROJECT_B]: [READER_B, READER_A] }),
    ).toEqual([READER_A, READER_B]);
  });
});
