import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RawConfig } from '../../functions/domain/config/schema.js';
import type { RunReport } from '../../functions/domain/report.js';
import { AtlasSimulator } from '../../tools/simulator/atlas-simulator.js';
import type { SimulatorBehaviour } from '../../tools/simulator/model.js';
import type { RsaKeyPair } from '../../tools/simulator/pki.js';
import type { RateLimitOptions } from '../../tools/simulator/rate-limit.js';
import { CLI } from '../build.js';
import type { CountingProxy } from './counting-proxy.js';
import { CREATE_MS, flags, LIST_MS, projectId } from './options.js';

/** What every scenario of one bench shares. */
export interface Bench {
  /** Scratch directory: configs, usage files, the preload. */
  dir: string;
  /** The preload that writes a CLI process's CPU time and peak RSS on exit. */
  preload: string;
  proxy: CountingProxy;
  /** RSA-4096 keys, made once, for every simulator. */
  pool: readonly RsaKeyPair[];
}

export const USAGE_PRELOAD = `import { writeFileSync } from 'node:fs';
process.on('exit', () => {
  const u = process.resourceUsage();
  writeFileSync(process.env.BENCH_USAGE_FILE, JSON.stringify({ cpuMs: (u.userCPUTime + u.systemCPUTime) / 1000, maxRssKb: u.maxRSS }));
});`;

export type World = Awaited<ReturnType<typeof world>>;

/** A simulator with the bench's latencies and keys, its projects and users, and a config. */
export const world = async (
  bench: Bench,
  projects: number,
  perProject: number,
  bucket: RateLimitOptions,
  now?: () => Date,
  rateLimits: SimulatorBehaviour['rateLimitsEndpoint'] = 'served',
) => {
  const clientId = 'mdb_sa_id_bench';
  const secret = randomBytes(16).toString('hex');
  const sim = await AtlasSimulator.start({
    keys: bench.pool,
    latencyMs: { list: LIST_MS, create: CREATE_MS },
    serviceAccounts: [{ clientId, clientSecret: secret }],
    apiKeys: [{ publicKey: 'bench-pub', privateKey: secret }],
    now,
    behaviour: { rateLimitsEndpoint: rateLimits },
  });
  const prefix = `bench-${randomBytes(4).toString('hex')}/`;
  const tableName = `bench-${randomBytes(4).toString('hex')}`;
  // Imported once main() pointed the SDK's endpoint variables at moto.
  const { createLeaseTable } = await import('../../tools/aws/seed.js');
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
  const configFile = join(bench.dir, `${tableName}.json`);
  await writeFile(configFile, JSON.stringify(raw));
  const atlasEnv: Record<string, string> =
    flags.auth === 'digest'
      ? { MONGODB_ATLAS_PUBLIC_API_KEY: 'bench-pub', MONGODB_ATLAS_PRIVATE_API_KEY: secret }
      : { MONGODB_ATLAS_CLIENT_ID: clientId, MONGODB_ATLAS_CLIENT_SECRET: secret };
  sim.setRateLimit(bucket);
  const users = byProject.reduce((n, p) => n + p.users.length, 0);
  return { sim, byProject, raw, configFile, atlasEnv, users, prefix };
};

/** One CLI run: its report, wall time, CPU and peak RSS. */
export const cli = async (
  bench: Bench,
  configFile: string,
  atlasEnv: Record<string, string>,
  budgetS?: number,
) => {
  const usageFile = join(bench.dir, `usage-${randomBytes(3).toString('hex')}.json`);
  const args = [CLI, 'rotate', '--config', configFile, '--json', '--quiet'];
  if (budgetS !== undefined) args.push('--time-budget', String(budgetS));
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    env: {
      ...process.env,
      ...atlasEnv,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: bench.proxy.endpoint,
      NODE_OPTIONS: `--import ${bench.preload}`,
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
};
