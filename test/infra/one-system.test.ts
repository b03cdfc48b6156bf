import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/domain/config/errors.js';
import type { RawConfig } from '../../functions/domain/config/schema.js';
import { AtlasX509Rotation, type AtlasX509RotationProps } from '../../infra/construct.js';
import { defaultRuntime } from '../../infra/runtime.js';
import { alarmRunMetricDimensions } from '../support/alarm-dimensions.js';
import { caught, exampleConfig, newApp, synthDefault } from './support.js';

/**
 * The construct in an adopter's own stack: the names it builds come from the config (D1), the
 * outputs and handles it gives (D2), the runtime it accepts (D5), and the config errors it
 * raises (#24.7).
 */

const dir = mkdtempSync(join(tmpdir(), 'atlas-x509-one-system-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const adopterStack = (
  app: App = newApp(),
  id = 'AppStack',
  env?: { account: string; region: string },
) => new Stack(app, id, env ? { env } : {});

const rotation = (
  stack: Stack,
  props: Partial<AtlasX509RotationProps> = {},
  id = 'Rotation',
): AtlasX509Rotation =>
  new AtlasX509Rotation(stack, id, {
    ...(props.configFile ? {} : { config: exampleConfig() }),
    ...props,
  } as AtlasX509RotationProps);

const withDefaults = (defaults: RawConfig['defaults'], locks?: RawConfig['locks']): RawConfig => ({
  ...exampleConfig(),
  defaults,
  ...(locks ? { locks } : {}),
});

const configError = (fn: () => unknown): ConfigError => {
  const err = caught(fn);
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
};

describe('one system: the config names the lease table and the key alias (D1)', () => {
  it('builds the table and the alias the config names, and ships them unchanged', () => {
    const stack = adopterStack();
    const config = withDefaults(
      { secretNamePrefix: 'team-a/', kmsKeyId: 'alias/team-a-certs' },
      { tableName: 'team-a-leases' },
    );
    const r = rotation(stack, { config });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'team-a-leases' });
    template.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/team-a-certs' });
    expect(r.keyAlias).toBe('alias/team-a-certs');
    expect(r.shippedConfig.locks).toEqual({ tableName: 'team-a-leases' });
    expect(r.shippedConfig.defaults).toEqual(config.defaults);
  });

  it('refuses a config without kmsKeyId, naming the field and the fix', () => {
    const err = configError(() =>
      rotation(adopterStack(), {
        config: withDefaults({ secretNamePrefix: 'atlas-x509/' }),
        configSource: 'rotation.config.json',
      }),
    );
    expect(err.message).toContain('Invalid rotation config in rotation.config.json');
    expect(err.issues).toEqual([
      'defaults.kmsKeyId: absent; when deployed it names the key alias the construct creates and the CLI uses: add "kmsKeyId": "alias/atlas-x509-rotator" to "defaults" (any alias/… name of your own)',
    ]);
  });

  it('refuses a key ARN, a key id and an AWS managed alias, naming the value', () => {
    for (const kmsKeyId of [
      'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      '1234abcd-12ab-34cd-56ef-1234567890ab',
      'alias/aws/secretsmanager',
    ]) {
      const err = configError(() =>
        rotation(adopterStack(), { config: withDefaults({ kmsKeyId }) }),
      );
      expect(err.issues[0]).toMatch(
        new RegExp(`^defaults\\.kmsKeyId: "${kmsKeyId.replace(/\//g, '\\/')}" is not an alias`),
      );
      expect(err.issues[0]).toContain('add "kmsKeyId": "alias/atlas-x509-rotator" to "defaults"');
    }
  });

  it('refuses two rotations that could share a table, alias or prefix, naming both paths', () => {
    const app = newApp();
    rotation(adopterStack(app, 'StackA'));
    const err = configError(() => rotation(adopterStack(app, 'StackB')));
    expect(err.issues).toEqual([
      'locks.tableName "atlas-x509-rotator-locks", defaults.kmsKeyId "alias/atlas-x509-rotator", defaults.secretNamePrefix "atlas-x509/" (overlaps "atlas-x509/"): already used by the AtlasX509Rotation at StackA/Rotation; StackB/Rotation needs its own (two rotations in one account and Region must not share them)',
    ]);
    // An overlapping prefix alone is a clash too: both roles could write the same secrets.
    const nested = configError(() =>
      rotation(adopterStack(app, 'StackC'), {
        config: withDefaults(
          { secretNamePrefix: 'atlas-x509/team-c/', kmsKeyId: 'alias/c' },
          { tableName: 'c-leases' },
        ),
      }),
    );
    expect(nested.issues[0]).toMatch(
      /^defaults\.secretNamePrefix "atlas-x509\/team-c\/" \(overlaps "atlas-x509\/"\): already used by the AtlasX509Rotation at StackA\/Rotation; StackC\/Rotation/,
    );
  });

  it("keeps two deployments' alarms apart: each reads the metrics its own function emits", () => {
    const app = newApp();
    const build = (id: string, n: string) => {
      const stack = adopterStack(app, id);
      const config = withDefaults(
        { secretNamePrefix: `team-${n}/`, kmsKeyId: `alias/team-${n}` },
        { tableName: `team-${n}-leases` },
      );
      return { stack, r: rotation(stack, { config }) };
    };
    const read = ({ stack, r }: ReturnType<typeof build>) => {
      const template = Template.fromStack(stack);
      const env = Object.values(template.findResources('AWS::Lambda::Function'))
        .map((f) => f.Properties.Environment?.Variables?.ATLAS_X509_DEPLOYMENT)
        .filter((v) => v !== undefined);
      const deployments = alarmRunMetricDimensions(template.toJSON().Resources);
      return { r, env, deployments };
    };
    const built = [build('StackA', 'a'), build('StackB', 'b')];
    const [a, b] = built.map(read) as [ReturnType<typeof read>, ReturnType<typeof read>];
    expect(a.r.namePrefix).not.toBe(b.r.namePrefix);
    for (const { r, env, deployments } of [a, b]) {
      // The rotate function alone emits run metrics; it is told its deployment.
      expect(env).toEqual([r.namePrefix]);
      expect(deployments.length).toBeGreaterThanOrEqual(8);
      for (const dimensions of deployments) {
        expect(dimensions).toEqual({ service: 'atlas-x509-rotator', deployment: r.namePrefix });
      }
    }
  });

  it('allows the same names in stacks of different accounts (stages of one pipeline)', () => {
    const app = newApp();
    rotation(adopterStack(app, 'Test', { account: '111122223333', region: 'eu-west-1' }));
    expect(() =>
      rotation(adopterStack(app, 'Prod', { account: '444455556666', region: 'eu-west-1' })),
    ).not.toThrow();
  });
});

describe('outputs and handles (D2)', () => {
  const ids = (template: Template) => Object.keys(template.toJSON().Outputs ?? {}).sort();

  it("emits the operator's outputs in the adopter's stack, under stable names", () => {
    const stack = adopterStack();
    const r = rotation(stack);
    const template = Template.fromStack(stack);
    expect(ids(template)).toEqual([
      'AlarmTopicArn',
      'CertificateSecretsKeyArn',
      'CredentialsSecretArn',
      'DashboardName',
      'DisableFunctionName',
      'FailureQueueUrl',
      'LeaseTableName',
      'RotateFunctionName',
    ]);
    const outputs = template.toJSON().Outputs;
    expect(outputs.RotateFunctionName.Value).toEqual(stack.resolve(r.rotateFunction.functionName));
    expect(outputs.CredentialsSecretArn.Value).toEqual(
      stack.resolve(r.credentialsSecret.secretArn),
    );
    expect(outputs.CredentialsSecretArn.Description).toBe(
      'Put the Atlas credential here (docs/deploy.md)',
    );
    expect(outputs.LeaseTableName.Value).toEqual(stack.resolve(r.leaseTable.tableName));
    expect(outputs.CertificateSecretsKeyArn.Value).toEqual(stack.resolve(r.key.keyArn));
    expect(outputs.AlarmTopicArn.Value).toEqual(stack.resolve(r.alarmTopic.topicArn));
    expect(outputs.DashboardName.Value).toEqual(stack.resolve(r.dashboard.dashboardName));
  });

  it('emits none with outputs: false, and prefixed ones with outputPrefix', () => {
    const app = newApp();
    const stack = adopterStack(app);
    rotation(stack, { outputs: false });
    expect(ids(Template.fromStack(stack))).toEqual([]);
    const two = adopterStack(newApp(), 'Two');
    rotation(
      two,
      {
        outputPrefix: 'Blue',
        config: withDefaults(
          { secretNamePrefix: 'blue/', kmsKeyId: 'alias/blue' },
          { tableName: 'blue-leases' },
        ),
      },
      'Blue',
    );
    expect(ids(Template.fromStack(two))).toContain('BlueRotateFunctionName');
    const three = adopterStack(newApp(), 'Two');
    rotation(
      three,
      {
        outputPrefix: 'Blue',
        config: withDefaults(
          { secretNamePrefix: 'blue/', kmsKeyId: 'alias/blue' },
          { tableName: 'blue-leases' },
        ),
      },
      'Blue',
    );
    const err = caught(() =>
      rotation(
        three,
        {
          config: withDefaults(
            { secretNamePrefix: 'green/', kmsKeyId: 'alias/green' },
            { tableName: 'green-leases' },
          ),
          outputPrefix: 'Blue',
        },
        'Green',
      ),
    );
    expect(String(err)).toContain(
      'Two/Green: stack Two already has an output BlueCredentialsSecretArn (another AtlasX509Rotation?): give each rotation its own outputPrefix, or outputs: false',
    );
    expect(() => rotation(adopterStack(), { outputPrefix: 'a-b' })).toThrow(
      'outputPrefix "a-b": use letters and digits only',
    );
  });

  it("leaves the repository's stack with one copy of each output, the same names", () => {
    const { template } = synthDefault();
    expect(ids(template)).toEqual([
      'AlarmTopicArn',
      'CertificateSecretsKeyArn',
      'CredentialsSecretArn',
      'DashboardName',
      'DisableFunctionName',
      'FailureQueueUrl',
      'LeaseTableName',
      'RotateFunctionName',
    ]);
  });
});

describe('the runtime (D5)', () => {
  // Runtime.ALL is global: the runtimes these tests make must not reach other files' syntheses
  // (the infra project shares one module registry per worker).
  const known = [...lambda.Runtime.ALL];
  afterAll(() => {
    lambda.Runtime.ALL.splice(0, lambda.Runtime.ALL.length, ...known);
  });

  it('defaults to the newest tested Node.js runtime this aws-cdk-lib knows', () => {
    // The pinned aws-cdk-lib (2.276.0) knows nodejs24.x and nothing newer.
    expect('NODEJS_26_X' in lambda.Runtime).toBe(false);
    expect(defaultRuntime().name).toBe('nodejs24.x');
  });

  it('accepts each tested runtime, even one this aws-cdk-lib has no constant for', () => {
    const stack = adopterStack();
    const r = rotation(stack, {
      runtime: new lambda.Runtime('nodejs26.x', lambda.RuntimeFamily.NODEJS),
    });
    expect(r.runtime.name).toBe('nodejs26.x');
    // A new Runtime joins Runtime.ALL, the list cdk-nag's L1 and the default read: the app
    // now knows nodejs26.x, and the default follows (so L1 finds nothing either way).
    expect(defaultRuntime().name).toBe('nodejs26.x');
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
    expect(Object.values(functions).map((f) => f.Properties.Runtime)).toEqual([
      'nodejs26.x',
      'nodejs26.x',
    ]);
  });

  it('refuses runtimes the bundles are not tested on, naming the choices', () => {
    for (const runtime of [lambda.Runtime.NODEJS_22_X, lambda.Runtime.PYTHON_3_13]) {
      expect(() => rotation(adopterStack(), { runtime })).toThrow(
        `runtime "${runtime.name}": the functions' bundles are built for Node 24 and tested on nodejs24.x, nodejs26.x`,
      );
    }
  });
});

describe('config errors name their source (#24.7)', () => {
  it('reads configFile at synth, naming the file in every error', () => {
    const good = join(dir, 'good.json');
    writeFileSync(good, JSON.stringify(exampleConfig()));
    const stack = adopterStack();
    expect(rotation(stack, { configFile: good }).shippedConfig.projects).toEqual(
      exampleConfig().projects,
    );
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{\n  "projects": [\n    { "projectId": "x", }\n  ]\n}\n');
    const err = configError(() => rotation(adopterStack(), { configFile: broken }));
    expect(err.message).toMatch(
      new RegExp(
        `^Invalid rotation config in ${broken}:\\n {2}- not valid JSON at line 3, column 25: `,
      ),
    );
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '');
    expect(configError(() => rotation(adopterStack(), { configFile: empty })).issues).toEqual([
      'not valid JSON at line 1, column 1: Unexpected end of JSON input',
    ]);
    const missing = configError(() =>
      rotation(adopterStack(), { configFile: join(dir, 'nope.json') }),
    );
    expect(missing.message).toContain(`in ${join(dir, 'nope.json')}:`);
    expect(missing.issues).toEqual(['cannot read the file: ENOENT']);
  });

  it('takes exactly one of config and configFile', () => {
    const stack = adopterStack();
    const neither = configError(
      () => new AtlasX509Rotation(stack, 'Neither', {} as AtlasX509RotationProps),
    );
    expect(neither.message).toBe(
      'Invalid rotation config in the props of AppStack/Neither:\n  - no config: pass `configFile` (the path of rotation.config.json) or `config` (its parsed JSON)',
    );
    const both = configError(() =>
      rotation(stack, { config: exampleConfig(), configFile: join(dir, 'good.json') }, 'Both'),
    );
    expect(both.issues).toEqual(['both `config` and `configFile` given: pass one of them']);
  });

  it('names the construct path when `config` comes without a configSource', () => {
    const err = configError(() =>
      rotation(adopterStack(), {
        config: { projects: [{ projectId: 'nope', users: ['app1'] }] },
      }),
    );
    expect(err.message).toMatch(/^Invalid rotation config in the config of AppStack\/Rotation:\n/);
  });
});
