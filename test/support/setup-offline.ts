import { awsEnvFor } from '../../tools/aws/moto.js';

// The projects without global setup (no moto_server): the SDK gets dummy credentials and a
// closed loopback port (discard, 9) as every endpoint, so a test that reaches AWS by mistake
// fails at once instead of leaving the machine.
Object.assign(process.env, awsEnvFor('http://127.0.0.1:9'));
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
