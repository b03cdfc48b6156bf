#!/usr/bin/env node
// An adopter's CDK app in plain JavaScript (CommonJS, as `cdk init app --language javascript`
// writes it): one stack holding the rotation, configured from rotation.config.json.
// The same -c flags as the atlas-x509-rotator repository's own app (docs/deploy.md):
//   -c config=rotation.config.json -c consumers=consumers.json -c alarmEmail=…
//   -c schedule='cron(…)' -c timeZone=Europe/Berlin -c scheduleEnabled=false
//   -c staticEgressIp=true -c credentialRotation=<admin secret ARN>|self -c stackName=…
const { readFileSync } = require('node:fs');
const { join, resolve } = require('node:path');
const { App, Stack, TimeZone } = require('aws-cdk-lib');
const { ScheduleExpression } = require('aws-cdk-lib/aws-scheduler');
const { Secret } = require('aws-cdk-lib/aws-secretsmanager');
const { AtlasX509Rotation } = require('atlas-x509-rotator');

const app = new App();
/** A -c value, or undefined when not given. */
const context = (name) => {
  const value = app.node.tryGetContext(name);
  return value === undefined || value === null || value === '' ? undefined : String(value);
};
/** A -c true|false flag; anything else stops synth with one line. */
const flag = (name) => {
  const value = context(name);
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false') {
    process.stderr.write(`-c ${name}=${value}: use true or false\n`);
    process.exit(1);
  }
  return value === 'true';
};

const stack = new Stack(app, context('stackName') ?? 'AtlasX509Rotation', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

const consumersFile = context('consumers');
const schedule = context('schedule');
const timeZone = context('timeZone');
const credentialRotation = context('credentialRotation');
if (credentialRotation && credentialRotation !== 'self' && !credentialRotation.startsWith('arn:')) {
  process.stderr.write(
    '-c credentialRotation: give the admin secret\'s complete ARN (admin-assisted rotation), or "self"\n',
  );
  process.exit(1);
}

new AtlasX509Rotation(stack, 'Rotation', {
  // Validated at synth with the functions' own schema: a bad config fails here, not at 03:00.
  // Give the CLI the same file: the lease table and key alias it names are the deployed ones.
  configFile: resolve(context('config') ?? join(__dirname, '..', 'rotation.config.json')),
  // Who may read each project's certificate secrets (principal ARNs, other accounts allowed).
  consumers: consumersFile
    ? JSON.parse(readFileSync(resolve(consumersFile), 'utf8'))
    : { '5e2211c17a3e5a48f5497de3': ['arn:aws:iam::111122223333:role/app1-reader'] },
  alarmEmail: context('alarmEmail'),
  scheduleEnabled: flag('scheduleEnabled'),
  staticEgressIp: flag('staticEgressIp'),
  ...(schedule || timeZone
    ? {
        schedule: ScheduleExpression.expression(
          schedule ?? 'cron(0 3 * * ? *)',
          timeZone ? TimeZone.of(timeZone) : TimeZone.ETC_UTC,
        ),
      }
    : {}),
  ...(credentialRotation === 'self' ? { credentialRotation: { selfRotation: true } } : {}),
  ...(credentialRotation?.startsWith('arn:')
    ? {
        credentialRotation: {
          adminSecret: Secret.fromSecretCompleteArn(
            stack,
            'CredentialRotationAdmin',
            credentialRotation,
          ),
        },
      }
    : {}),
});

app.synth();
