/**
 * `npm run scenarios`: the hard-timing scenarios of docs/reliability.md, each run through the real
 * CLI process against the Atlas simulator and moto_server (behind the AWS fault proxy), printed
 * as the table the doc shows: certificates minted, keys lost, mints per user, time to finish.
 * Takes about six minutes (some scenarios wait out Atlas's Retry-After or let versions age). `--only <name>` runs one.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type AwsFault, AwsFaultProxy } from '../tools/aws/fault-proxy.js';
import { awsEnvFor, startMoto } from '../tools/aws/moto.js';
import type { Fault } from '../tools/simulator/faults.js';

const P = '5e2211c17a3e5a48f5497de3';
const DAY = 86_400_000;

interface Scenario {
  name: string;
  users: number;
  /** Each user already holds a certificate this many days from expiry (default: none stored). */
  heldDaysLeft?: number;
  args?: string[];
  /** SIGKILL the process group after this long, as Lambda's hard stop would. */
  killAfterMs?: number;
  atlasFaults?: Fault[];
  awsFaults?: AwsFault[];
  latencyCreateMs?: number;
  listLagMs?: number;
  /** Where EventBridge is: moto (default), a server that accepts and never answers, or a closed port. */
  eventBridge?: 'moto' | 'hung' | 'refused';
  /** Runs of the same command, one after the other. */
  runs?: number;
  /** Invoke the rotate Lambda handler with one forced payload (`requestedAt` fixed), not the CLI. */
  handlerPayload?: boolean;
  /** Wait this long after seeding, before the first run (not counted in its time). */
  settleMs?: number;
  rotation?: Record<string, unknown>;
}

const throttled = (times: number, retryAfter: number): Fault => ({
  method: 'POST',
  path: '/certs',
  times,
  action: { type: 'error', status: 429, errorCode: 'RATE_LIMITED_TOKEN_BUCKET', retryAfter },
});
const throttleSm = (operation: string, chance: number): AwsFault => ({
  operation,
  errorType: 'ThrottlingException',
  message: 'Rate exceeded',
  times: Number.POSITIVE_INFINITY,
  chance,
});
const SM_OPERATIONS = [
  'ListSecrets',
  'DescribeSecret',
  'GetSecretValue',
  'CreateSecret',
  'PutSecretValue',
  'UpdateSecretVersionStage',
  'TagResource',
  'PutResourcePolicy',
];

const SCENARIOS: Scenario[] = [
  {
    name: 'hard stop: --time-budget 100, create 429 ×3 (Retry-After 30), 8 s create, PutSecretValue throttled ×7, SIGKILL at 120 s',
    users: 1,
    args: ['--time-budget', '100'],
    killAfterMs: 120_000,
    atlasFaults: [throttled(3, 30)],
    latencyCreateMs: 8_000,
    awsFaults: [{ ...throttleSm('PutSecretValue', 1), times: 7 }],
  },
  {
    name: 'the same with --time-budget 200',
    users: 1,
    args: ['--time-budget', '200'],
    killAfterMs: 220_000,
    atlasFaults: [throttled(3, 30)],
    latencyCreateMs: 8_000,
    awsFaults: [{ ...throttleSm('PutSecretValue', 1), times: 7 }],
  },
  {
    name: '80-user first rotation, 60 % of all Secrets Manager calls throttled',
    users: 80,
    awsFaults: SM_OPERATIONS.map((op) => throttleSm(op, 0.6)),
  },
  { name: '16 users, EventBridge accepts and never answers', users: 16, eventBridge: 'hung' },
  { name: '200 users, EventBridge reachable', users: 200 },
  { name: '200 users, EventBridge connection refused', users: 200, eventBridge: 'refused' },
  {
    name: 'rotate handler invoked twice with the same forced payload (4 users), as the AWS CLI retries',
    // Versions stored within a minute of `requestedAt` count as serving it (clock skew): let the
    // seeded ones age past that first.
    settleMs: 61_000,
    users: 4,
    heldDaysLeft: 60,
    runs: 2,
    handlerPayload: true,
  },
  {
    name: 'CLI without --time-budget, create 429 with Retry-After 300',
    users: 1,
    atlasFaults: [throttled(Number.POSITIVE_INFINITY, 300)],
  },
  {
    name: 'create response dropped after minting, list lagging 3 s',
    users: 1,
    atlasFaults: [{ method: 'POST', path: '/certs', action: { type: 'resetAfterProcessing' } }],
    listLagMs: 3_000,
  },
  {
    name: 'critical user, every certificate rejected (wrong key), 10 runs',
    users: 1,
    heldDaysLeft: 2,
    runs: 10,
    atlasFaults: [
      {
        method: 'POST',
        path: '/certs',
        times: Number.POSITIVE_INFINITY,
        action: { type: 'mangleCreate', mangle: 'wrongKey' },
      },
    ],
  },
];

interface Row {
  name: string;
  minted: number;
  lost: number;
  perUser: number;
  seconds: number;
  outcome: string;
}

const hungServer = async (): Promise<{ endpoint: string; server: Server }> => {
  const server = createServer(() => {
    // Accept, read nothing, answer nothing.
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { endpoint: `http://127.0.0.1:${port}`, server };
};

const runCli = (
  args: string[],
  env: NodeJS.ProcessEnv,
  killAfterMs: number | undefined,
): Promise<{ stdout: string; killed: boolean }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'functions/bin.ts', ...args], {
      env,
      detached: true,
      // SCENARIOS_DEBUG=1 shows the CLI's log (set POWERTOOLS_LOG_LEVEL=DEBUG for all of it).
      stdio: ['ignore', 'pipe', process.env.SCENARIOS_DEBUG ? 'inherit' : 'ignore'],
    });
    let stdout = '';
    let killed = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const timer =
      killAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            killed = true;
            if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
          }, killAfterMs);
    child.once('close', () => {
      clearTimeout(timer);
      resolve({ stdout, killed });
    });
  });

const main = async (): Promise<void> => {
  const { values } = parseArgs({ options: { only: { type: 'string' } } });
  const moto = await startMoto();
  Object.assign(process.env, awsEnvFor(moto.endpoint), {
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: process.env.SCENARIOS_DEBUG ? 'DEBUG' : 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  const proxy = await AwsFaultProxy.start(moto.endpoint);
  // Imported once the SDK's endpoint variables are set.
  const { AtlasSimulator } = await import('../tools/simulator/atlas-simulator.js');
  const { createLeaseTable, seedSecret, sm } = await import('../tools/aws/seed.js');
  const { ListSecretVersionIdsCommand, GetSecretValueCommand } = await import(
    '@aws-sdk/client-secrets-manager'
  );
  const { secretNameFor } = await import('../functions/domain/config.js');
  const dir = await mkdtemp(join(tmpdir(), 'rotator-scenarios-'));
  const rows: Row[] = [];
  try {
    for (const s of SCENARIOS) {
      if (values.only && !s.name.includes(values.only)) continue;
      const clientId = 'mdb_sa_id_scenarios';
      const clientSecret = randomBytes(16).toString('hex');
      const sim = await AtlasSimulator.start({
        serviceAccounts: [{ clientId, clientSecret }],
        keyPool: 16,
        latencyMs: { create: s.latencyCreateMs ?? 0 },
        behaviour: { listLagMs: s.listLagMs ?? 0 },
      });
      const hung = s.eventBridge === 'hung' ? await hungServer() : undefined;
      try {
        sim.addProject(P);
        const users = Array.from({ length: s.users }, (_, i) => `u${i + 1}`);
        const prefix = `s${randomBytes(4).toString('hex')}/`;
        const tableName = `locks-${randomBytes(4).toString('hex')}`;
        await createLeaseTable(tableName);
        for (const u of users) {
          sim.addUser(P, u);
          if (s.heldDaysLeft !== undefined) {
            const now = Date.now();
            const minted = await sim.mintCertificate(P, u, {
              notBefore: new Date(now - 30 * DAY),
              notAfter: new Date(now + s.heldDaysLeft * DAY),
            });
            await seedSecret(secretNameFor(prefix, P, u), { projectId: P, username: u }, minted);
          }
        }
        const config = join(dir, `${tableName}.json`);
        await writeFile(
          config,
          JSON.stringify({
            atlas: { baseUrl: sim.baseUrl },
            defaults: { secretNamePrefix: prefix },
            locks: { tableName },
            projects: [{ projectId: P, users }],
            ...(s.rotation ? { rotation: s.rotation } : {}),
          }),
        );
        const seeded = sim.stats.certificatesMinted;
        for (const f of s.atlasFaults ?? []) sim.injectFault(f);
        proxy.clear();
        for (const f of s.awsFaults ?? []) proxy.inject(f);
        const eventBridge =
          s.eventBridge === 'hung'
            ? (hung?.endpoint ?? '')
            : s.eventBridge === 'refused'
              ? 'http://127.0.0.1:9'
              : proxy.endpoint;
        const env = {
          ...process.env,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: proxy.endpoint,
          AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint,
          AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge,
          MONGODB_ATLAS_CLIENT_ID: clientId,
          MONGODB_ATLAS_CLIENT_SECRET: clientSecret,
        };
        if (s.settleMs) await new Promise((r) => setTimeout(r, s.settleMs));
        const started = Date.now();
        const outcomes: string[] = [];
        const payload = { force: true, all: true, requestedAt: new Date().toISOString() };
        for (let run = 0; run < (s.runs ?? 1); run++) {
          if (s.handlerPayload) {
            Object.assign(process.env, env, { ROTATOR_CONFIG_PATH: config });
            const { handler } = await import('../functions/rotate/handler.js');
            const report = await handler(payload, lambdaContext(`invoke-${run}`));
            outcomes.push(summary(report.summary));
            continue;
          }
          const { stdout, killed } = await runCli(
            ['rotate', '--config', config, '--json', ...(s.args ?? [])],
            env,
            s.killAfterMs,
          );
          if (killed) outcomes.push('killed, no report');
          else outcomes.push(summary((JSON.parse(stdout) as { summary: Summary }).summary));
        }
        const seconds = (Date.now() - started) / 1000;
        const stored = new Set<string>();
        const perUser: number[] = [];
        for (const u of users) {
          perUser.push(sim.certificates(P, u).length - (s.heldDaysLeft === undefined ? 0 : 1));
          const name = secretNameFor(prefix, P, u);
          const versions = await sm()
            .send(new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }))
            .catch(() => ({ Versions: [] }));
          for (const v of versions.Versions ?? []) {
            const got = await sm().send(
              new GetSecretValueCommand({ SecretId: name, VersionId: v.VersionId }),
            );
            const serial = (JSON.parse(got.SecretString ?? '{}') as { serialNumber?: string })
              .serialNumber;
            if (serial) stored.add(serial);
          }
        }
        const minted = sim.stats.certificatesMinted - seeded;
        const mintedSerials = users.flatMap((u) =>
          sim.certificates(P, u).map((c) => c.serialNumber),
        );
        const lost = mintedSerials.filter((serial) => !stored.has(serial)).length;
        rows.push({
          name: s.name,
          minted,
          lost,
          perUser: Math.max(0, ...perUser),
          seconds,
          outcome: outcomes.length > 2 ? `last run: ${outcomes.at(-1)}` : outcomes.join('; then '),
        });
        console.error(`done: ${s.name} (${seconds.toFixed(1)} s)`);
      } finally {
        hung?.server.close();
        await sim.close();
      }
    }
  } finally {
    await proxy.close();
    await moto.stop();
    await rm(dir, { recursive: true, force: true });
  }
  console.log(
    '| scenario | certificates minted | keys lost | mints per user (max) | time to finish | report |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.minted} | ${r.lost} | ${r.perUser} | ${r.seconds.toFixed(1)} s | ${r.outcome} |`,
    );
  }
};

/** What the handler reads of its Lambda context. */
const lambdaContext = (awsRequestId: string) =>
  ({
    awsRequestId,
    functionName: 'scenarios',
    getRemainingTimeInMillis: () => 600_000,
  }) as unknown as import('aws-lambda').Context;

interface Summary {
  users: number;
  rotated: number;
  resumed: number;
  skipped: number;
  deferred: number;
  failed: number;
}

const summary = (s: Summary): string =>
  `${s.rotated} rotated, ${s.resumed} resumed, ${s.skipped} skipped, ${s.deferred} deferred, ${s.failed} failed`;

await main();
