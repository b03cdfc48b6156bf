/**
 * Runs the Atlas simulator on its own for local use:
 *
 *   npx tsx tools/simulator/main.ts [--port N] [--users N] [--customer-ca] [--bucket C:R]
 *                                  [--per-project] [--rate-limits served|denied|absent]
 *
 *   --users N       N more MANAGED users (user-0 … user-<N-1>): a long run, to watch progress
 *   --customer-ca   the project has a customer CA: Atlas then refuses managed certificates
 *   --bucket C:R    a token bucket of capacity C refilled R per second (a stingy one: 10:1)
 *   --per-project   one such bucket per project (Atlas's GROUP scope) instead of one for all
 *   --rate-limits   whether GET /rateLimits is served, refused (401) or unknown (406)
 *
 * It serves one project with a few users and one service account whose secret is generated here
 * and printed once, as shell `export` lines, so the rotator can be pointed at it. Ctrl-C stops it.
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { AtlasSimulator } from './atlas-simulator.js';

const SIM_CLIENT_ID = 'mdb_sa_id_sim';
const SIM_PROJECT_ID = '5e2211c17a3e5a48f5497de3';

const parsePort = (raw: string | undefined): number => {
  if (raw === undefined) return 0;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`--port must be an integer 0..65535, got ${raw}`);
  }
  return port;
};

const parseBucket = (raw: string | undefined, perProject: boolean) => {
  if (raw === undefined) return undefined;
  const [capacity, refillPerSecond] = raw.split(':').map(Number);
  if (!(Number(capacity) >= 1 && Number(refillPerSecond) > 0)) {
    throw new Error(`--bucket expects <capacity>:<refill per second>, e.g. 10:1, got ${raw}`);
  }
  return {
    capacity: Number(capacity),
    refillPerSecond: Number(refillPerSecond),
    scope: perProject ? ('project' as const) : ('shared' as const),
  };
};

const RATE_LIMITS = ['served', 'denied', 'absent'] as const;
const parseRateLimits = (raw: string): (typeof RATE_LIMITS)[number] => {
  const found = RATE_LIMITS.find((x) => x === raw);
  if (!found) throw new Error(`--rate-limits expects served, denied or absent, got ${raw}`);
  return found;
};

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      users: { type: 'string', default: '0' },
      'customer-ca': { type: 'boolean', default: false },
      bucket: { type: 'string' },
      'per-project': { type: 'boolean', default: false },
      'rate-limits': { type: 'string', default: 'served' },
    },
  });
  const extraUsers = Number(values.users);
  if (!Number.isInteger(extraUsers) || extraUsers < 0) {
    throw new Error(`--users must be a whole number, got ${values.users}`);
  }
  // Service-account secrets look like `mdb_sa_sk_...`; this one only lives as long as the process.
  const clientSecret = `mdb_sa_sk_${randomBytes(24).toString('hex')}`;
  const simulator = await AtlasSimulator.start({
    port: parsePort(values.port),
    serviceAccounts: [{ clientId: SIM_CLIENT_ID, clientSecret }],
    rateLimit: parseBucket(values.bucket, values['per-project']),
    behaviour: { rateLimitsEndpoint: parseRateLimits(values['rate-limits']) },
  });
  simulator.addProject(SIM_PROJECT_ID);
  simulator.addUser(SIM_PROJECT_ID, 'app1');
  simulator.addUser(SIM_PROJECT_ID, 'svc.reporting+eu@corp');
  simulator.addUser(SIM_PROJECT_ID, 'customer-ca-user', { x509Type: 'CUSTOMER' });
  simulator.addUser(SIM_PROJECT_ID, 'scram-user', { x509Type: 'NONE', databaseName: 'admin' });
  for (let i = 0; i < extraUsers; i++) simulator.addUser(SIM_PROJECT_ID, `user-${i}`);
  if (values['customer-ca']) {
    const ca = await simulator.mintCertificate(SIM_PROJECT_ID, 'customer-ca');
    simulator.setCustomerCa(SIM_PROJECT_ID, ca.certificate);
  }

  // stdout is safe to `eval`: export lines and comments. The secret appears here and nowhere else.
  process.stdout.write(
    [
      `export MONGODB_ATLAS_CLIENT_ID=${SIM_CLIENT_ID}`,
      `export MONGODB_ATLAS_CLIENT_SECRET=${clientSecret}`,
      `# Atlas simulator listening on ${simulator.baseUrl} (use it as atlas.baseUrl)`,
      `# project ${SIM_PROJECT_ID}: app1, svc.reporting+eu@corp (MANAGED),`,
      '#   customer-ca-user (CUSTOMER), scram-user (NONE, admin)' +
        (extraUsers > 0 ? `, user-0 … user-${extraUsers - 1} (MANAGED)` : '') +
        (values['customer-ca'] ? '; the project has a customer CA' : '') +
        (values.bucket ? `; bucket ${values.bucket}` : '') +
        '. Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  await simulator.close();
};

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
