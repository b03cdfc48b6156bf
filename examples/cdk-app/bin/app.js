#!/usr/bin/env node
// An adopter's CDK app in plain JavaScript (CommonJS, as `cdk init app --language javascript`
// writes it): one stack holding the rotation, configured from rotation.config.json.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { App, Stack } = require('aws-cdk-lib');
const { AtlasX509Rotation } = require('atlas-x509-rotator');

const app = new App();
const stack = new Stack(app, app.node.tryGetContext('stackName') ?? 'AtlasX509Rotation', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

// Validated at synth with the functions' own schema: a bad config fails here, not at 03:00.
const config = JSON.parse(readFileSync(join(__dirname, '..', 'rotation.config.json'), 'utf8'));

new AtlasX509Rotation(stack, 'Rotation', {
  config,
  // Who may read each project's certificate secrets (principal ARNs, other accounts allowed).
  consumers: {
    '5e2211c17a3e5a48f5497de3': ['arn:aws:iam::111122223333:role/app1-reader'],
  },
  alarmEmail: app.node.tryGetContext('alarmEmail'),
});

app.synth();
