import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, TimeZone, Validations } from 'aws-cdk-lib';
import { ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError } from '../functions/domain/config/errors.js';
import type { Consumers } from './construct.js';
import { failOnGuardFindings } from './guard.js';
import { AtlasX509RotatorStack } from './stack.js';

/**
 * `npx cdk deploy -c config=rotation.config.json [-c consumers=consumers.json]
 * [-c alarmEmail=…] [-c schedule='cron(…)' -c timeZone=Europe/Berlin] [-c staticEgressIp=true]
 * [-c scheduleEnabled=false] [-c credentialRotation=<admin secret ARN>|self] [-c stackName=…]`
 */

const app = new App();
const context = (name: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(name);
  return value === undefined || value === null || value === '' ? undefined : String(value);
};
const flag = (name: string): boolean | undefined => {
  const value = context(name);
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') throw new Error(`-c ${name}: use true or false`);
  return value === 'true';
};

// A config problem is the operator's to fix: print the message, not a stack trace.
function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

const configPath = context('config');
if (!configPath) fail('No rotation config: run `npx cdk deploy -c config=rotation.config.json`');
const consumersPath = context('consumers');
const schedule = context('schedule');
const timeZone = context('timeZone');
// Secrets Manager rotates the rotator's credential: with the admin secret (its complete ARN),
// or, asked for explicitly, by itself.
const credentialRotation = context('credentialRotation');
if (credentialRotation && credentialRotation !== 'self' && !credentialRotation.startsWith('arn:')) {
  fail(
    '-c credentialRotation: give the admin secret\'s complete ARN (admin-assisted rotation), or "self"',
  );
}

try {
  new AtlasX509RotatorStack(app, context('stackName') ?? 'AtlasX509Rotator', {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    configFile: resolve(configPath),
    configSource: configPath,
    ...(consumersPath
      ? { consumers: JSON.parse(await readFile(resolve(consumersPath), 'utf8')) as Consumers }
      : {}),
    ...(schedule || timeZone
      ? {
          schedule: ScheduleExpression.expression(
            schedule ?? 'cron(0 3 * * ? *)',
            timeZone ? TimeZone.of(timeZone) : TimeZone.ETC_UTC,
          ),
        }
      : {}),
    alarmEmail: context('alarmEmail'),
    staticEgressIp: flag('staticEgressIp'),
    ...(credentialRotation === 'self' ? { credentialRotation: { selfRotation: true } } : {}),
    ...(credentialRotation?.startsWith('arn:')
      ? { credentialRotationAdminSecretArn: credentialRotation }
      : {}),
    scheduleEnabled: flag('scheduleEnabled'),
  });
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}

// AwsSolutions (cdk-nag) and Control Tower proactive control (cfn-guard) findings fail
// `cdk synth`; accepted ones are acknowledged in code, with reasons (docs/cdk-hygiene.md).
Validations.of(app).addPlugins(
  new AwsSolutionsChecks(app),
  failOnGuardFindings(new CfnGuardValidator()),
);
app.synth();
