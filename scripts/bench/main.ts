/**
 * `npm run bench`: the shipped CLI (`dist/cli`, a process of its own, so start-up counts) against
 * the Atlas simulator and moto_server, with latencies from recorded Atlas traffic and token
 * buckets that answer 429 + Retry-After like Atlas. Prints tables; asserts nothing.
 *
 *   npm run bench -- [--full 100,1000,10000] [--steady 100,1000] [--projects 40x25]
 *                    [--stingy 200] [--scale 30] [--auth oauth|digest] [--only <scenario,...>]
 *
 * Scenarios: full (first rotation, one generous bucket), steady (nothing due), projects (a
 * bucket per project), stingy (catch-up runs over a stingy bucket, time-scaled; see
 * docs/performance.md).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import pLimit from 'p-limit';
import type { RawConfig } from '../../functions/domain/config.js';
import type { RunReport } from '../../functions/domain/report.js';
import { awsEnvFor, type MotoServer, startMoto } from '../../tools/aws/moto.js';
import { AtlasSimulator } from '../../tools/simulator/atlas-simulator.js';
import type { RateLimitOptions } from '../../tools/simulator/rate-limit.js';
import { buildBundles, CLI } from '../build.js';

const LIST_MS = 55;
const CREATE_MS = 870;
/** The rotator's pace per write family (`WRITES_PER_SECOND` in write-pace.ts). */
const WRITE_PACE = 40;
const GENEROUS: RateLimitOptions = { capacity: 100, refillPerSecond: 100, scope: 'shared' };
const PER_PROJECT: RateLimitOptions = { capacity: 20, refillPerSecond: 5, scope: 'project' };
const STINGY: RateLimitOptions = { capacity: 10, refillPerSecond: 5 / 60, scope: 'project' };
/** A Lambda's budget, and the catch-up schedule's tick, as deployed. */
const LAMBDA_S = 900;
const TICK_S = 20 * 60;

const { values: flags } = parseArgs({
  options: {
    full: { type: 'string', default: '100,1000,10000' },
    steady: { type: 'string', default: '100,1000' },
    projects: { type: 'string', default: '40x25' },
    stingy: { type: 'string', default: '200' },
    scale: { type: 'string', default: '30' },
    auth: { type: 'string', default: 'oauth' },
    only: { type: 'string', default: 'full,steady,projects,stingy' },
  },
});
const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
const projectId = (i: number) => `${'b0'.repeat(10)}${String(i).padStart(4, '0')}`;

/** Secrets Manager's write families (its quotas page): the actions that share a quota. */
const FAMILIES: Record<string, string> = {
  CreateSecret: 'CreateSecret',
  PutSecretValue: 'PutSecretValue/UpdateSecretVersionStage',
  UpdateSecretVersionStage: 'PutSecretValue/UpdateSecretVersionStage',
  ReplicateSecretToRegions: 'PutSecretValue/UpdateSecretVersionStage',
  TagResource: 'TagResource/UntagResource',
  UntagResource: 'TagResource/UntagResource',
  PutResourcePolicy: 'Put/Get/DeleteResourcePolicy',
  GetResourcePolicy: 'Put/Get/DeleteResourcePolicy',
  DeleteResourcePolicy: 'Put/Get/DeleteResourcePolicy',
  DeleteSecret: 'DeleteSecret',
};

/**
 * A recording proxy in front of moto_server's Secrets Manager: every request the rotator sends
 * (retries included), by action and arrival time, as the service would count them. It runs in a
 * process of its own, so the simulator's work in this one cannot delay its clock.
 */
const PROXY = `
import { createServer, request } from 'node:http';
const upstream = new URL(process.argv[1]);
const server = createServer((req, res) => {
  const action = String(req.headers['x-amz-target'] ?? '').split('.').pop() || '?';
  const at = performance.now();
  const out = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
    process.stdout.write(JSON.stringify({ action, at, status: answer.statusCode }) + '\\n');
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  out.on('error', () => res.destroy());
  req.pipe(out);
});
server.listen(0, '127.0.0.1', () => process.stderr.write('port ' + server.address().port + '\\n'));
`;

const secretsManagerProxy = async (target: string) => {
  const seen: { action: string; at: number; status?: number }[] = [];
  const child = spawn(process.execPath, ['--input-type=module', '-e', PROXY, target], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Its clock must not lag behind a busy machine: ahead of the rest, where allowed.
  try {
    if (child.pid) setPriority(child.pid, -10);
  } catch {}
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => seen.push(JSON.parse(line)));
  const port = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      const found = /port (\d+)/.exec(String(d));
      if (found?.[1]) resolve(found[1]);
    });
    child.once('exit', (code) => reject(new Error(`the proxy exited (${code})`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    seen,
    close: async () => {
      child.kill();
    },
  };
};

/** The most writes of one family in any one second. */
const peakPerSecond = (times: number[]): number => {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while ((sorted[j] as number) - (sorted[i] as number) >= 1000) i++;
    peak = Math.max(peak, j - i + 1);
  }
  return peak;
};

interface Row {
  scenario: string;
  users: number;
  runs: number;
  wallS: number;
  boundS: number;
  boundWhy: string;
  atlasPerUser: number;
  tokens: number;
  smPerUser: number;
  throttled: number;
  failed: number;
  writesPeak: string;
  writesPeakMax: number;
  cpuMsPerUser: number | undefined;
  rssMb: number | undefined;
  target: string;
  hours?: number;
}

const USAGE_PRELOAD = `import { writeFileSync } from 'node:fs';
process.on('exit', () => {
  const u = process.resourceUsage();
  writeFileSync(process.env.BENCH_USAGE_FILE, JSON.stringify({ cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, maxRssKb: u.maxRSS }));
});`;

const main = async (): Promise<void> => {
  process.stderr.write('bench: building the CLI and handlers…\n');
  await buildBundles();
  const dir = await mkdtemp(join(tmpdir(), 'bench-'));
  const preload = join(dir, 'usage.mjs');
  await writeFile(preload, USAGE_PRELOAD);
  const motos = {
    sm: await startMoto(),
    ddb: await startMoto(),
    events: await startMoto(),
  } satisfies Record<string, MotoServer>;
  const proxy = await secretsManagerProxy(motos.sm.endpoint);
  Object.assign(process.env, awsEnvFor('unused'), {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: motos.sm.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: motos.ddb.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: motos.events.endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  const { createLeaseTable, seedSecret } = await import('../../tools/aws/seed.js');
  process.stderr.write('bench: RSA-4096 keys for the simulator, as Atlas mints…\n');
  const keys = await AtlasSimulator.start({ keyPool: 8, keyBits: 4096 });
  const pool = keys.keyPoolKeys;
  await keys.close();

  const rows: Row[] = [];
  const scenarios = list(flags.only);
  const run = async (name: string, fn: () => Promise<Row>) => {
    await Promise.all(
      Object.values(motos).map((m) => fetch(`${m.endpoint}/moto-api/reset`, { method: 'POST' })),
    );
    proxy.seen.length = 0;
    try {
      rows.push(await fn());
    } catch (err) {
      process.stderr.write(`bench: ${name} failed: ${(err as Error).stack}\n`);
    }
  };
  try {
    if (scenarios.includes('full'))
      for (const n of list(flags.full).map(Number))
        await run(`full ${n}`, () =>
          scenario({ kind: 'full', projects: 10, perProject: n / 10, bucket: GENEROUS }),
        );
    if (scenarios.includes('steady'))
      for (const n of list(flags.steady).map(Number))
        await run(`steady ${n}`, () =>
          scenario({ kind: 'steady', projects: 10, perProject: n / 10, bucket: GENEROUS }),
        );
    if (scenarios.includes('projects')) {
      const [p, u] = flags.projects.split('x').map(Number) as [number, number];
      await run('projects', () =>
        scenario({ kind: 'projects', projects: p, perProject: u, bucket: PER_PROJECT }),
      );
    }
    if (scenarios.includes('stingy'))
      for (const n of list(flags.stingy).map(Number)) await run(`stingy ${n}`, () => stingy(n));
  } finally {
    await proxy.close();
    await Promise.all(Object.values(motos).map((m) => m.stop()));
    await rm(dir, { recursive: true, force: true });
  }
  print(rows, await bundleSizes());

  /** A simulator with the bench's latencies and keys, its projects and users, and a config. */
  async function world(
    projects: number,
    perProject: number,
    bucket: RateLimitOptions,
    now?: () => Date,
  ) {
    const clientId = 'mdb_sa_id_bench';
    const secret = randomBytes(16).toString('hex');
    const sim = await AtlasSimulator.start({
      keys: pool,
      latencyMs: { list: LIST_MS, create: CREATE_MS },
      serviceAccounts: [{ clientId, clientSecret: secret }],
      apiKeys: [{ publicKey: 'bench-pub', privateKey: secret }],
      now,
    });
    const prefix = `bench-${randomBytes(4).toString('hex')}/`;
    const tableName = `bench-${randomBytes(4).toString('hex')}`;
    await createLeaseTable(tableName);
    const byProject = Array.from({ length: projects }, (_, p) => ({
      projectId: projectId(p),
      users: Array.from({ length: Math.round(perProject) }, (_, i) => `user-${p}-${i}`),
    }));
    for (const p of byProject) {
      sim.addProject(p.projectId);
      for (const u of p.users) sim.addUser(p.projectId, u);
    }
    const raw: RawConfig = {
      atlas: { baseUrl: sim.baseUrl },
      defaults: { secretNamePrefix: prefix },
      locks: { tableName },
      projects: byProject,
    };
    const configFile = join(dir, `${tableName}.json`);
    await writeFile(configFile, JSON.stringify(raw));
    const atlasEnv: Record<string, string> =
      flags.auth === 'digest'
        ? { MONGODB_ATLAS_PUBLIC_API_KEY: 'bench-pub', MONGODB_ATLAS_PRIVATE_API_KEY: secret }
        : { MONGODB_ATLAS_CLIENT_ID: clientId, MONGODB_ATLAS_CLIENT_SECRET: secret };
    sim.setRateLimit(bucket);
    const users = byProject.reduce((n, p) => n + p.users.length, 0);
    return { sim, byProject, raw, configFile, atlasEnv, users, prefix };
  }

  /** One CLI run: its report, wall time, CPU and peak RSS. */
  async function cli(configFile: string, atlasEnv: Record<string, string>, budgetS?: number) {
    const usageFile = join(dir, `usage-${randomBytes(3).toString('hex')}.json`);
    const args = [CLI, 'rotate', '--config', configFile, '--json', '--quiet'];
    if (budgetS !== undefined) args.push('--time-budget', String(budgetS));
    const started = performance.now();
    const child = spawn(process.execPath, args, {
      env: {
        ...process.env,
        ...atlasEnv,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: proxy.endpoint,
        NODE_OPTIONS: `--import ${preload}`,
        BENCH_USAGE_FILE: usageFile,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on('close', r));
    const wallS = (performance.now() - started) / 1000;
    if (!stdout.trim())
      throw new Error(`the CLI printed no report (exit ${code}): ${stderr.slice(-2000)}`);
    const usage = JSON.parse(await readFile(usageFile, 'utf8')) as {
      cpuMs: number;
      maxRssKb: number;
    };
    return { report: JSON.parse(stdout) as RunReport, wallS, usage };
  }

  async function scenario(s: {
    kind: 'full' | 'steady' | 'projects';
    projects: number;
    perProject: number;
    bucket: RateLimitOptions;
  }): Promise<Row> {
    const w = await world(s.projects, s.perProject, s.bucket);
    process.stderr.write(`bench: ${s.kind}, ${w.users} users…\n`);
    try {
      if (s.kind === 'steady') {
        // Seeding is not measured: every user starts with a healthy certificate.
        const limit = pLimit(16);
        await Promise.all(
          w.byProject.flatMap((p) =>
            p.users.map((username) =>
              limit(async () => {
                const cert = await w.sim.mintCertificate(p.projectId, username, { months: 3 });
                const seed = () =>
                  seedSecret(
                    `${w.prefix}${p.projectId}/${username}`,
                    { projectId: p.projectId, username },
                    cert,
                  );
                // moto_server now and then answers a burst of creates with an HTML 500 page.
                await seed().catch(seed);
              }),
            ),
          ),
        );
        w.sim.setRateLimit(s.bucket);
        proxy.seen.length = 0;
      }
      w.sim.resetRequests();
      const { report, wallS, usage } = await cli(w.configFile, w.atlasEnv);
      await new Promise((r) => setTimeout(r, 300)); // the proxy's last lines
      const api = w.sim.requests.filter((r) => r.path.startsWith('/api/atlas/'));
      const answered = api.filter((r) => r.status !== 429 && r.status !== 401);
      // Token bound: each bucket's last token arrives (charged − capacity) / refill after the
      // start, and the request it admits still takes its latency.
      const charged = new Map<string, number>();
      for (const r of answered) {
        if (!r.path.endsWith('/certs')) continue;
        const key = s.bucket.scope === 'project' ? (r.path.split('/')[5] ?? '') : 'all';
        charged.set(key, (charged.get(key) ?? 0) + 1);
      }
      const last = (s.kind === 'steady' ? LIST_MS : CREATE_MS) / 1000;
      const chain = (s.kind === 'steady' ? LIST_MS : LIST_MS + CREATE_MS) / 1000;
      const tokenBound = Math.max(
        ...[...charged.values()].map(
          (n) => Math.max(0, (n - s.bucket.capacity) / s.bucket.refillPerSecond) + last,
        ),
      );
      // Write bound: the pace sends one write of a family every 1/WRITE_PACE s; a new user's
      // CreateSecret precedes its mint, so the last one's mint still follows it.
      const creates = proxy.seen.filter((x) => x.action === 'CreateSecret').length;
      const writeBound =
        s.kind === 'steady' ? 0 : Math.max(0, creates - 1) / WRITE_PACE + CREATE_MS / 1000;
      const boundS = Math.max(chain, tokenBound, writeBound);
      const boundWhy =
        boundS === writeBound ? 'writes' : boundS === tokenBound ? 'tokens' : 'chain';
      const ratio = wallS / boundS;
      const row = base(s.kind, w.users, report, wallS, boundS, boundWhy, answered.length, w.sim);
      row.cpuMsPerUser = usage.cpuMs / w.users;
      row.rssMb = usage.maxRssKb / 1024;
      const want = s.kind === 'projects' ? 1.25 : w.users <= 100 ? 1.5 : 1.1;
      row.target =
        s.kind === 'steady'
          ? atlasSteady(row, w.users) && row.smPerUser <= 0.02 && row.tokens === 1
            ? 'met (1 Atlas list a user, ≤0.02 SM, 1 token)'
            : 'MISSED'
          : ratio <= want && row.failed === 0
            ? `met (≤${want}×, 0 failed)`
            : `MISSED (${ratio.toFixed(2)}× > ${want}× or ${row.failed} failed)`;
      return row;
    } finally {
      await w.sim.close();
    }
  }

  /**
   * A first rotation over a stingy bucket, through catch-up runs as the schedule makes them, in
   * time scaled by `--scale`: the bucket refills `scale` times faster and a run's budget is a
   * Lambda's 15 minutes divided by `scale`, so bucket-bound runs behave as deployed, in seconds.
   * Between runs the simulator's clock moves one catch-up tick (scaled) ahead.
   */
  async function stingy(n: number): Promise<Row> {
    const scale = Number(flags.scale);
    let offsetMs = 0;
    const bucket = { ...STINGY, refillPerSecond: STINGY.refillPerSecond * scale };
    const w = await world(1, n, bucket, () => new Date(Date.now() + offsetMs));
    process.stderr.write(`bench: stingy, ${n} users, time ×${scale}…\n`);
    // In this process too, the rotator's Secrets Manager calls go through the counting proxy
    // (its SDK clients are made when the module loads, from the environment).
    process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = proxy.endpoint;
    const { rotateWithConfig } = await import('../../functions/runtime.js');
    const { parseConfig } = await import('../../functions/domain/config.js');
    const { silentLog } = await import('../../functions/domain/log.js');
    const config = parseConfig(w.raw);
    const budgetMs = (LAMBDA_S * 1000) / scale;
    let simulatedS = 0;
    let runs = 0;
    let failed = 0;
    let report: RunReport | undefined;
    let wallS = 0;
    try {
      for (let trigger: 'schedule' | 'catch-up' = 'schedule'; ; trigger = 'catch-up') {
        const started = performance.now();
        const at = Date.now();
        report = await rotateWithConfig({
          config,
          request: { dryRun: false, force: false },
          log: silentLog,
          env: { ...process.env, ...w.atlasEnv },
          deadline: () => at + budgetMs,
          trigger,
          // A create and its key's store, scaled like the rest (65 s as deployed).
          tuning: { minTimeForMintMs: 65_000 / scale },
        });
        const s = (performance.now() - started) / 1000;
        wallS += s;
        simulatedS += s * scale;
        runs += 1;
        failed += report.summary.failed;
        process.stderr.write(
          `bench:   run ${runs} (${trigger}): ${report.summary.rotated} rotated, ${report.summary.deferred} deferred\n`,
        );
        if (report.catchUp?.next !== 'catch-up') break;
        offsetMs += (TICK_S * 1000) / scale;
        simulatedS += TICK_S - s * scale;
      }
    } finally {
      await w.sim.close();
    }
    const minted = w.sim.stats.certificatesMinted;
    // Each new user costs two tokens (list, create); a run spends the bucket, then its refill
    // until its last create may start (the budget less the report's and a create's reserve).
    const perRun = STINGY.capacity + STINGY.refillPerSecond * (LAMBDA_S - 10 - 65);
    const fewest = Math.ceil((2 * n) / perRun);
    const answered = w.sim.requests.filter(
      (r) => r.path.startsWith('/api/atlas/') && r.status !== 429 && r.status !== 401,
    ).length;
    const row = base('stingy', n, report as RunReport, wallS, Number.NaN, '—', answered, w.sim);
    row.runs = runs;
    row.failed = failed;
    row.hours = simulatedS / 3600;
    row.target =
      failed === 0 && minted >= n
        ? `${runs <= fewest ? 'met' : 'MISSED'} (0 failed; ${runs} runs, fewest ${fewest}; ${row.hours.toFixed(1)} h)`
        : `MISSED (${failed} failed, ${minted}/${n} minted after ${runs} runs)`;
    return row;
  }

  function base(
    scenario: string,
    users: number,
    report: RunReport,
    wallS: number,
    boundS: number,
    boundWhy: string,
    answered: number,
    sim: AtlasSimulator,
  ): Row {
    const writes = new Map<string, number[]>();
    let sm = 0;
    for (const { action, at } of proxy.seen) {
      sm += 1;
      const family = FAMILIES[action];
      if (family) writes.set(family, [...(writes.get(family) ?? []), at]);
    }
    const peaks = [...writes].map(([f, times]) => [f, peakPerSecond(times)] as const);
    const errors = proxy.seen.filter((x) => (x.status ?? 0) >= 400).length;
    if (errors > 0)
      process.stderr.write(`bench:   ${errors} Secrets Manager error answers (retried)\n`);
    return {
      scenario,
      users,
      runs: 1,
      wallS,
      boundS,
      boundWhy,
      atlasPerUser: answered / users,
      tokens: sim.stats.tokensIssued,
      smPerUser: sm / users,
      throttled: sim.stats.rateLimited,
      failed: report.summary.failed,
      writesPeak: peaks.map(([f, p]) => `${f.split('/')[0]} ${p}`).join(', ') || '—',
      writesPeakMax: Math.max(0, ...peaks.map(([, p]) => p)),
      cpuMsPerUser: undefined,
      rssMb: undefined,
      target: '',
    };
  }
};

/** Steady state: one list a user, plus the run's fixed reads (the published rate limit). */
const atlasSteady = (row: Row, users: number): boolean => row.atlasPerUser * users <= users + 2;

const bundleSizes = async () =>
  Promise.all(
    ['rotate', 'disable-customer-x509'].map(async (name) => ({
      name,
      kib: (await stat(`dist/assets/${name}/index.mjs`)).size / 1024,
    })),
  );

const print = (rows: Row[], bundles: { name: string; kib: number }[]): void => {
  const header =
    '| scenario | users | runs | wall s | bound s (binds) | wall/bound | Atlas req/user | tokens | SM req/user | 429s | failed | SM writes/s peak (pace 40) | CPU ms/user | peak RSS MB | target |';
  const lines = [
    header,
    `|${header
      .split('|')
      .slice(1, -1)
      .map(() => '---')
      .join('|')}|`,
  ];
  for (const r of rows) {
    const bound = Number.isNaN(r.boundS) ? '—' : `${r.boundS.toFixed(1)} (${r.boundWhy})`;
    const ratio = Number.isNaN(r.boundS) ? '—' : (r.wallS / r.boundS).toFixed(2);
    lines.push(
      `| ${r.scenario} | ${r.users} | ${r.runs} | ${r.wallS.toFixed(1)} | ${bound} | ${ratio} | ${r.atlasPerUser.toFixed(3)} | ${r.tokens} | ${r.smPerUser.toFixed(3)} | ${r.throttled} | ${r.failed} | ${r.writesPeak}${r.writesPeakMax > WRITE_PACE ? ' OVER' : ''} | ${r.cpuMsPerUser?.toFixed(1) ?? '—'} | ${r.rssMb?.toFixed(0) ?? '—'} | ${r.target} |`,
    );
  }
  process.stdout.write(
    `\nAtlas simulator: list ${LIST_MS} ms, create ${CREATE_MS} ms, RSA-4096 keys (a pool of 8); auth ${flags.auth}; the CLI as its own process (start-up, SDK load and the events included).\n` +
      `Buckets: full/steady one of capacity 100, refill 100/s; projects one per project of capacity 20, refill 5/s; stingy one of capacity 10, refill 5/min, time ×${flags.scale}.\n\n${lines.join('\n')}\n\n` +
      `| function | bundle (index.mjs, minified) |\n|---|---|\n${bundles.map((b) => `| ${b.name} | ${b.kib.toFixed(0)} KiB |`).join('\n')}\n`,
  );
};

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
