import { readFileSync } from 'node:fs';
import { App, type AppProps, Duration, type Stack, TimeZone } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import type { RawConfig } from '../../functions/domain/config/schema.js';
import { AtlasX509RotatorStack, type AtlasX509RotatorStackProps } from '../../infra/stack.js';

/** The example config the repository deploys with (`infra/example.config.json`). */
export const exampleConfig = (): RawConfig =>
  JSON.parse(readFileSync(new URL('../../infra/example.config.json', import.meta.url), 'utf8'));

export const PROJECT_A = '5e2211c17a3e5a48f5497de3';
export const PROJECT_B = '6a1f00aa00bb00cc00dd00ee';
export const READER_A = 'arn:aws:iam::111122223333:role/app1-reader';
export const READER_B = 'arn:aws:iam::444455556666:role/analytics-reader';

/**
 * `cdk.json`'s context: the feature flags the cdk CLI gives the deployed app. Every test app
 * starts from them, so what the tests assert is the template that deploys.
 */
export const cdkJsonContext = (): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;

/** An app with `cdk.json`'s context, plus `props.context` on top. */
export const cdkApp = (props: AppProps = {}): App =>
  new App({ ...props, context: { ...cdkJsonContext(), ...props.context } });

/** A bundling-free app (bundling is proven once, in bundling.test.ts). */
export const newApp = (): App => cdkApp({ context: { 'aws:cdk:bundling-stacks': [] } });

export const synth = (
  props: Partial<AtlasX509RotatorStackProps> = {},
  app: App = newApp(),
): { app: App; stack: AtlasX509RotatorStack; template: Template } => {
  const stack = new AtlasX509RotatorStack(app, 'Rotator', { config: exampleConfig(), ...props });
  return { app, stack, template: Template.fromStack(stack) };
};

/**
 * The default deployment and the customized one, synthesized once per worker and shared by the
 * test files that only read them (the infra project runs with `isolate: false`). Tests that add
 * to an app or a stack synthesize their own.
 */
let defaults: ReturnType<typeof synth> | undefined;
let customized: ReturnType<typeof synth> | undefined;
export const synthDefault = (): ReturnType<typeof synth> => {
  defaults ??= synth();
  return defaults;
};
export const synthCustomized = (): ReturnType<typeof synth> => {
  customized ??= synth(customizedProps());
  return customized;
};

/** The customized deployment's first project checks new certificates' logins here. */
export const VERIFY_URI = 'mongodb+srv://cluster0.ab1cd.mongodb.net/';

/**
 * The deployment with every option changed at once: static egress IP, consumers, imported
 * credentials (a separate one for disable), alarm email, schedule, window and critical floor.
 */
export const customizedProps = (): Partial<AtlasX509RotatorStackProps> => {
  const config = exampleConfig();
  return {
    config: {
      ...config,
      atlas: {
        ...config.atlas,
        credentialsSecretId: 'team/atlas-api',
        disableCredentialsSecretId: 'team/atlas-owner',
      },
      // The login check of new certificates: the VPC opens the cluster ports too.
      projects: config.projects.map((p, i) =>
        i === 0 ? { ...p, verify: { uri: VERIFY_URI } } : p,
      ),
    },
    staticEgressIp: true,
    consumers: { [PROJECT_A]: [READER_A], [PROJECT_B]: [READER_B, READER_A] },
    alarmEmail: 'oncall@example.com',
    schedule: ScheduleExpression.expression('cron(30 1 ? * MON-FRI *)', TimeZone.EUROPE_BERLIN),
    scheduleWindow: Duration.minutes(30),
    criticalDays: 10,
  };
};

/** The one logical id of the only resource of `type` whose properties match. */
export const logicalId = (template: Template, type: string, props: object = {}): string => {
  const ids = Object.keys(
    template.findResources(type, Object.keys(props).length > 0 ? { Properties: props } : undefined),
  );
  if (ids.length !== 1) throw new Error(`expected one ${type}, found ${ids.length}`);
  return ids[0] as string;
};

/** Renders a resolved value with its references, for string checks. */
export const render = (stack: Stack, value: unknown): string =>
  JSON.stringify(stack.resolve(value));

/** The two functions, by description. */
export const ROTATE = Match.stringLikeRegexp('^atlas-x509-rotator: rotates');
export const DISABLE = Match.stringLikeRegexp('^atlas-x509-rotator: disables');

export type Statement = {
  Sid?: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

/** The function's role's inline statements, by function description. */
export const roleStatements = (template: Template, description: object): Statement[] => {
  const fn = Object.values(
    template.findResources('AWS::Lambda::Function', { Properties: { Description: description } }),
  )[0] as { Properties: { Role: { 'Fn::GetAtt': [string, string] } } };
  const roleId = fn.Properties.Role['Fn::GetAtt'][0];
  const role = template.toJSON().Resources[roleId] as {
    Properties: { Policies: { PolicyDocument: { Statement: Statement[] } }[] };
  };
  return role.Properties.Policies.flatMap((p) => p.PolicyDocument.Statement);
};

export const actions = (s: Statement): string[] =>
  Array.isArray(s.Action) ? s.Action : [s.Action];
export const resources = (s: Statement): unknown[] =>
  Array.isArray(s.Resource) ? s.Resource : [s.Resource];
export const bySid = (statements: Statement[], sid: string): Statement => {
  const found = statements.find((s) => s.Sid === sid);
  if (!found) throw new Error(`no statement ${sid}`);
  return found;
};

/** `arn:…:secret:<name>` in this stack's partition, region and account, as the template renders it. */
export const secretArnOf = (name: string) => ({
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':secretsmanager:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      `:secret:${name}`,
    ],
  ],
});
export const CERT_PREFIX_ARN = secretArnOf('atlas-x509/*');
export const VIA_SECRETS_MANAGER = {
  'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
};

/** The error `fn` throws; fails the test when it throws nothing. */
export const caught = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
};
