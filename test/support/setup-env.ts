import { inject } from 'vitest';
import { awsEnvFor } from '../../tools/aws/moto.js';
import './setup-offline.js';

// Every test process of a project with global setup talks to moto_server through the SDK's
// standard endpoint variables, and never to a real AWS account: credentials are dummies.
Object.assign(process.env, awsEnvFor(inject('motoEndpoint')));
// Spawned CLIs run the bundle global setup built (see tools/cli.ts `cliArgs`).
process.env.ROTATOR_TEST_CLI = inject('cliBundle');
