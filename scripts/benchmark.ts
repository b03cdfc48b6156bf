/**
 * `npm run bench`: the real rotation core (what the CLI and the Lambda run) against the Atlas
 * simulator and moto_server, with latencies from recorded Atlas traffic and a token bucket
 * that answers 429 + Retry-After like Atlas. Prints a table; asserts nothing.
 *
 *   npm run bench -- [--users 100,1000,5000] [--bucket generous,stingy] [--mode steady,full]
 *                    [--stingy-users 20] [--budget 30] [--stingy-runs 10] [--auth oauth|digest]
 *                    [--digest-nonce-reuse] [--concurrency N]
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DeserializeMiddleware } from '@smithy/types';
import { build } from 'esbuild';
import pLimit from 'p-limit';
import type { RawConfig } from '../functions/domain/config.js';
import { AtlasSimulator } from '../test/simulator/atlas-simulator.js';
import { awsEnvFor, type MotoServer, startMoto } from '../test/support/moto.js';

const LIST_MS = 55;
const CREATE_MS = 870;
const BUCKETS = {
  generous: { capacity: 100, refillPerSecond: 100 },
  stingy: { capacity: 10, refillPerSecond: 5 / 60 },
} as const;
type Bucket = keyof typeof BUCKETS;
type Mode = 'steady' | 'full';

const { values: flags } = parseArgs({
  options: {
    users: { type: 'string', default: '100,1000,5000' },
    bucket: { type: 'string', default: 'generous,stingy' },
    mode: { type: 'string', default: 'steady,full' },
    budget: { type: 'string', default: '30' },
    'stingy-runs': { type: 'string', default: '10' },
    // At 5 requests a minute a run serves about a dozen users: 20 shows the catch-up in minutes.
    'stingy-users': { type: 'string', default: '20' },
    auth: { type: 'string', default: 'oauth' },
    // rotation.concurrency (the most users in flight); the config's default when absent.
    concurrency: { type: 'string' },
    // With --auth digest: the simulator accepts a nonce again with a rising nc (Atlas: unconfirmed).
    'digest-nonce-reuse': { type: 'boolean', default: false },
  },
});
const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const PROJECTS = Array.from(
  { length: 10 },
  (_, i) => `${'b0'.repeat(11)}${String(i).padStart(2, '0')}`,
);

interface Row {
  users: number;
  bucket: Bucket;
  mode: Mode;
  wallS: number;
  boundS: number;
  atlasPerUser: number;
  tokens: number;
  smPerUser: number;
  ddbPerUser: number;
  throttled: number;
  failed: number;
  deferred: number;
  runs: number;
  rssMb: number;
  digestPerUser: number;
  /** Full rotation: whether every user ended with a certificate. */
  finished: boolean;
  /** Stingy full rotation: the fewest runs the bucket allows (2 tokens a new user). */
  minRuns: number;
}

/** One moto_server per service, as AWS serves each from its own endpoint. */
const SERVICES = {
  secretsManager: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  dynamoDb: 'AWS_ENDPOINT_URL_DYNAMODB',
  eventBridge: 'AWS_ENDPOINT_URL_EVENTBRIDGE',
} as const;
type Service = keyof typeof SERVICES;

const main = async (): Promise<void> => {
  const motos = Object.fromEntries(
    await Promise.all(
      (Object.keys(SERVICES) as Service[]).map(async (s) => [s, await startMoto()] as const),
    ),
  ) as Record<Service, MotoServer>;
  Object.assign(process.env, awsEnvFor('unused'), {
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  for (const service of Object.keys(SERVICES) as Service[]) {
    process.env[SERVICES[service]] = motos[service].endpoint;
  }
  // Imported now: their SDK clients are built at module load and read the endpoints then.
  const clients = await import('../functions/adapters/aws/clients.js');
  const { rotateWithConfig } = await import('../functions/runtime.js');
  const { parseConfig } = await import('../functions/domain/config.js');
  const { silentLog } = await import('../functions/domain/log.js');
  const { createLeaseTable, seedSecret } = await import('../test/support/aws.js');
  const calls = countCalls(clients);

  const rows: Row[] = [];
  try {
    for (const bucket of list(flags.bucket) as Bucket[]) {
      const sizes = bucket === 'stingy' ? list(flags['stingy-users']) : list(flags.users);
      for (const users of sizes.map(Number)) {
        for (const mode of list(flags.mode) as Mode[]) {
          process.stderr.write(`bench: ${users} users, ${bucket} bucket, ${mode}…\n`);
          // Empty moto_servers per scenario: their lookups slow down as secrets pile up.
          await Promise.all(
            Object.values(motos).map((m) =>
              fetch(`${m.endpoint}/moto-api/reset`, { method: 'POST' }),
            ),
          );
          try {
            rows.push(await scenario(users, bucket, mode));
          } catch (err) {
            process.stderr.write(`bench: scenario failed: ${(err as Error).stack}\n`);
          }
        }
      }
    }
  } finally {
    await Promise.all(Object.values(motos).map((m) => m.stop()));
  }
  print(rows, await bundles());

  async function scenario(users: number, bucket: Bucket, mode: Mode): Promise<Row> {
    const clientId = 'mdb_sa_id_bench';
    const secret = randomBytes(16).toString('hex');
    const digest = flags.auth === 'digest';
    const sim = await AtlasSimulator.start({
      keyPool: 8,
      latencyMs: { list: LIST_MS, create: CREATE_MS },
      serviceAccounts: [{ clientId, clientSecret: secret }],
      apiKeys: [{ publicKey: 'bench-pub', privateKey: secret }],
    });
    try {
      const prefix = `bench-${randomBytes(4).toString('hex')}/`;
      const tableName = `bench-${randomBytes(4).toString('hex')}`;
      await createLeaseTable(tableName);
      const byProject = PROJECTS.map((projectId, p) => ({
        projectId,
        users: Array.from(
          { length: Math.ceil(users / PROJECTS.length) },
          (_, i) => `user-${p}-${i}`,
        ).slice(0, Math.max(0, users - p * Math.ceil(users / PROJECTS.length))),
      })).filter((p) => p.users.length > 0);
      for (const p of byProject) {
        sim.addProject(p.projectId);
        for (const u of p.users) sim.addUser(p.projectId, u);
      }
      if (mode === 'steady') {
        // Seeding is not measured: every user starts with a healthy certificate.
        const limit = pLimit(16);
        await Promise.all(
          byProject.flatMap((p) =>
            p.users.map((username) =>
              limit(async () => {
                const cert = await sim.mintCertificate(p.projectId, username, { months: 3 });
                const seed = () =>
                  seedSecret(
                    `${prefix}${p.projectId}/${username}`,
                    { projectId: p.projectId, username },
                    cert,
                  );
                // moto_server now and then answers a burst of creates with an HTML 500 page.
                await seed()
                  .catch(seed)
                  .catch((err: unknown) => {
                    if ((err as Error).name !== 'ResourceExistsException') throw err;
                  });
              }),
            ),
          ),
        );
      }
      const raw: RawConfig = {
        atlas: { baseUrl: sim.baseUrl },
        defaults: { secretNamePrefix: prefix },
        locks: { tableName },
        projects: byProject,
        ...(flags.concurrency ? { rotation: { concurrency: Number(flags.concurrency) } } : {}),
      };
      const config = parseConfig(raw);
      const env = digest
        ? { MONGODB_ATLAS_PUBLIC_API_KEY: 'bench-pub', MONGODB_ATLAS_PRIVATE_API_KEY: secret }
        : { MONGODB_ATLAS_CLIENT_ID: clientId, MONGODB_ATLAS_CLIENT_SECRET: secret };
      const budgetMs = Number(flags.budget) * 1000;
      const maxRuns = bucket === 'stingy' ? Number(flags['stingy-runs']) : 1;

      sim.behaviour.digestNonceReuse = flags['digest-nonce-reuse'];
      sim.setRateLimit(BUCKETS[bucket]);
      sim.resetRequests();
      calls.clear();
      let wallMs = 0;
      let runs = 0;
      let failed = 0;
      let deferred = 0;
      let traced = 0;
      const done = new Set<string>();
      let firstRun: { failed: number; deferred: number } | undefined;
      for (let left = users; left > 0 && runs < maxRuns; runs++) {
        // Each following run starts with a full bucket: a day of refill at 5 a minute.
        if (runs > 0) sim.setRateLimit(BUCKETS[bucket]);
        const started = performance.now();
        const startedAt = Date.now();
        const report = await rotateWithConfig({
          config,
          request: { dryRun: false, force: false },
          log: silentLog,
          env,
          deadline: bucket === 'stingy' ? () => startedAt + budgetMs : undefined,
          // A bench run's budget is seconds, not a Lambda's minutes: start users up to 5 s before.
          tuning: { minTimeForMintMs: 5_000 },
        });
        wallMs += performance.now() - started;
        if (process.env.BENCH_TRACE) {
          for (const r of sim.requests.slice(traced)) {
            process.stderr.write(
              `bench:     ${r.method} ${r.path.split('/').slice(-2).join('/')} ${r.status}\n`,
            );
          }
          traced = sim.requests.length;
        }
        if (maxRuns > 1) {
          const { rotated, deferred: later, failed: bad } = report.summary;
          const codes = [...new Set(report.users.map((u) => u.errorCode).filter(Boolean))];
          process.stderr.write(
            `bench:   run ${runs + 1}: ${rotated} rotated, ${later} deferred, ${bad} failed ${codes.join(' ')}\n`,
          );
        }
        failed += report.summary.failed;
        deferred = report.summary.deferred;
        firstRun ??= { failed: report.summary.failed, deferred: report.summary.deferred };
        for (const u of report.users) {
          if (u.action === 'rotated' || u.action === 'resumed')
            done.add(`${u.projectId}/${u.username}`);
        }
        left = mode === 'full' ? users - done.size : 0;
      }
      const api = sim.requests.filter((r) => r.path.startsWith('/api/atlas/'));
      // Refused (429) and Digest challenges (401, answered before the bucket) cost no token.
      const answered = api.filter((r) => r.status !== 429 && r.status !== 401).length;
      const { capacity, refillPerSecond } = BUCKETS[bucket];
      // One user's chain: a list, then (new user) a create. The bucket's last token comes
      // (answered − capacity) / refill after the start, and the request it admits still takes
      // its latency: a create in a full rotation (every user's chain ends with one), else a list.
      const lastS = (mode === 'full' ? CREATE_MS : LIST_MS) / 1000;
      const chainS = (mode === 'full' ? LIST_MS + CREATE_MS : LIST_MS) / 1000;
      const waitedS = (answered - capacity * runs) / refillPerSecond;
      const boundS = Math.max(chainS, waitedS > 0 ? waitedS + lastS : 0);
      let sm = 0;
      let ddb = 0;
      for (const [key, n] of calls) {
        if (key.startsWith('dynamoDb.')) ddb += n;
        else if (key.startsWith('secretsManager.')) sm += n;
      }
      return {
        users,
        bucket,
        mode,
        wallS: wallMs / 1000,
        boundS,
        atlasPerUser: answered / users,
        tokens: sim.stats.tokensIssued,
        smPerUser: sm / users,
        ddbPerUser: ddb / users,
        throttled: sim.stats.rateLimited,
        failed: failed,
        deferred: bucket === 'stingy' ? (firstRun?.deferred ?? 0) : deferred,
        runs,
        rssMb: process.resourceUsage().maxRSS / 1024,
        digestPerUser: sim.stats.digestChallenges / users,
        finished: mode === 'steady' || done.size === users,
        minRuns: Math.ceil((2 * users) / (capacity + refillPerSecond * (budgetMs / 1000))),
      };
    } finally {
      await sim.close();
    }
  }
};

/**
 * Counts every HTTP request each AWS client sends (retries and error answers included), by
 * service and operation, with a middleware inside the SDK's retry loop.
 */
const countCalls = (
  clients: typeof import('../functions/adapters/aws/clients.js'),
): Map<string, number> => {
  const counts = new Map<string, number>();
  const counter =
    <I extends object, O extends object>(service: Service): DeserializeMiddleware<I, O> =>
    (next, context) =>
    (args) => {
      const key = `${service}.${context.commandName}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
      return next(args);
    };
  const options = { step: 'deserialize', name: 'benchCallCounter' } as const;
  clients.secretsManager.middlewareStack.add(counter('secretsManager'), options);
  clients.secretsManagerKeyWrites.middlewareStack.add(counter('secretsManager'), options);
  clients.dynamoDb.middlewareStack.add(counter('dynamoDb'), options);
  clients.eventBridge.middlewareStack.add(counter('eventBridge'), options);
  return counts;
};

interface BundleInfo {
  name: string;
  bytes: number;
  initMs: number;
}

/** Each handler bundled as the stack bundles it, and its module initialisation time. */
const bundles = async (): Promise<BundleInfo[]> => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-bundle-'));
  const configPath = join(dir, 'rotation.config.json');
  await writeFile(
    configPath,
    JSON.stringify({ projects: [{ projectId: PROJECTS[0], users: ['a'] }] }),
  );
  const out: BundleInfo[] = [];
  try {
    for (const name of ['rotate', 'disable-customer-x509']) {
      const outfile = join(dir, name, 'index.mjs');
      await build({
        entryPoints: [`functions/${name}/handler.ts`],
        outfile,
        bundle: true,
        platform: 'node',
        target: 'node22',
        format: 'esm',
        minify: true,
        keepNames: true,
        sourcemap: 'external',
        banner: {
          js: "import { createRequire } from 'node:module';const require = createRequire(import.meta.url);",
        },
        logLevel: 'silent',
      });
      const times = [1, 2, 3].map(() => {
        const r = spawnSync(
          process.execPath,
          [
            '--input-type=module',
            '-e',
            `const t=performance.now();await import(${JSON.stringify(outfile)});console.log(performance.now()-t)`,
          ],
          {
            env: { ...process.env, AWS_REGION: 'us-east-1', ROTATOR_CONFIG_PATH: configPath },
            encoding: 'utf8',
          },
        );
        return Number(r.stdout.trim());
      });
      out.push({
        name,
        bytes: (await stat(outfile)).size,
        initMs: times.sort((a, b) => a - b)[1] ?? Number.NaN,
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return out;
};

const print = (rows: Row[], bundleInfo: BundleInfo[]): void => {
  const header =
    '| users | bucket | mode | runs | wall s | lower bound s | wall/bound | Atlas req/user (answered) | tokens | SM req/user | DynamoDB req/user | 429s | failed | deferred (1st run) | peak RSS MB | target |';
  const lines = [
    header,
    `|${header
      .split('|')
      .slice(1, -1)
      .map(() => '---')
      .join('|')}|`,
  ];
  for (const r of rows) {
    const ratio = r.wallS / r.boundS;
    // Several runs, each with a full bucket: the bound that matters is the fewest runs.
    const multiRun = r.bucket === 'stingy' && r.mode === 'full';
    const target =
      r.mode === 'steady'
        ? r.atlasPerUser <= 1.0001 && r.smPerUser <= 0.1
          ? 'met (≤1 Atlas, ≤0.1 SM per user)'
          : `MISSED (${r.atlasPerUser.toFixed(2)} Atlas, ${r.smPerUser.toFixed(2)} SM per user)`
        : r.bucket === 'generous'
          ? ratio <= 1.15 && r.failed === 0
            ? 'met (≤1.15×, 0 failed)'
            : `MISSED (${ratio.toFixed(2)}×, ${r.failed} failed)`
          : r.failed === 0 && r.finished
            ? `met (0 failed; finished in ${r.runs} runs, fewest possible ${r.minRuns})`
            : `MISSED (${r.failed} failed${r.finished ? '' : `, unfinished after ${r.runs} runs`})`;
    lines.push(
      `| ${r.users} | ${r.bucket} | ${r.mode} | ${r.runs} | ${r.wallS.toFixed(1)} | ${multiRun ? '—' : r.boundS.toFixed(1)} | ${multiRun ? '—' : ratio.toFixed(2)} | ${r.atlasPerUser.toFixed(2)} | ${r.tokens} | ${r.smPerUser.toFixed(3)} | ${r.ddbPerUser.toFixed(2)} | ${r.throttled} | ${r.failed} | ${r.deferred} | ${r.rssMb.toFixed(0)} | ${target} |`,
    );
  }
  const auth =
    flags.auth === 'digest'
      ? `Digest, nonces ${flags['digest-nonce-reuse'] ? 'reusable with a rising nc' : 'one use each'} (challenges per user: ${rows.map((r) => r.digestPerUser.toFixed(2)).join(', ')})`
      : 'service account (OAuth)';
  process.stdout.write(
    `\nAtlas simulator: list ${LIST_MS} ms, create ${CREATE_MS} ms; certificates signed with keys from a pre-generated pool of 8 (RSA 2048) so the simulator is not the bottleneck; auth: ${auth}.\n` +
      `Buckets: generous = capacity 100, refill 100/s; stingy = capacity 10, refill 5/min, ${flags.budget} s budget per run, each later run starting with a full bucket.\n\n${lines.join('\n')}\n\n` +
      `| function | bundle (index.mjs, minified) | module init (median of 3) |\n|---|---|---|\n${bundleInfo
        .map(
          (b) => `| ${b.name} | ${(b.bytes / 1024).toFixed(0)} KiB | ${b.initMs.toFixed(0)} ms |`,
        )
        .join('\n')}\n`,
  );
};

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
