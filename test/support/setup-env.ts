import { inject } from 'vitest';
import { awsEnvFor } from '../../tools/aws/moto.js';

// Every test process talks to moto_server through the SDK's standard endpoint variables, and
// never to a real AWS account: credentials are dummies.
Object.assign(process.env, awsEnvFor(inject('motoEndpoint')));
// Spawned CLIs run the bundle global setup built (see harness `cliArgs`).
process.env.ROTATOR_TEST_CLI = inject('cliBundle');
for (const name of [
  'MONGODB_ATLAS_CLIENT_ID',
  'MONGODB_ATLAS_CLIENT_SECRET',
  'MONGODB_ATLAS_PUBLIC_API_KEY',
  'MONGODB_ATLAS_PRIVATE_API_KEY',
  'AWS_PROFILE',
  'AWS_SESSION_TOKEN',
]) {
  delete process.env[name];
}
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
