/**
 * `npm run bench`: the shipped CLI (`dist/cli`, a process of its own, so start-up counts) against
 * the Atlas simulator and moto_server, with latencies from recorded Atlas traffic and token
 * buckets that answer 429 + Retry-After like Atlas. Prints tables; asserts nothing.
 *
 *   npm run bench -- [--full 100,1000,10000] [--steady 100,1000] [--projects 40x25]
 *                    [--stingy 200] [--scale 30] [--auth oauth|digest] [--only <scenario,...>]
 *
 * Scenarios: full (first rotation, one generous bucket), steady (nothing due; /rateLimits
 * served, refused and unknown), projects (a
 * bucket per project), stingy (catch-up runs over a stingy bucket, time-scaled; see
 * docs/performance.md). Here: the services and the order; world.ts: one simulator and CLI run;
 * runs.ts: the scenarios; table.ts: the rows and the printed table.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awsEnvFor, type MotoServer, startMoto } from '../../tools/aws/moto.js';
import { AtlasSimulator } from '../../tools/simulator/atlas-simulator.js';
import { buildBundles } from '../build.js';
import { countingProxy } from './counting-proxy.js';
import { flags, GENEROUS, list, PER_PROJECT } from './options.js';
import { scenario, stingy } from './runs.js';
import { bundleSizes, print, type Row } from './table.js';
import { type Bench, USAGE_PRELOAD } from './world.js';

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
  const proxy = await countingProxy(motos.sm.endpoint);
  Object.assign(process.env, awsEnvFor('unused'), {
    AWS_ENDPOINT_URL_SECRETS_MANAGER: motos.sm.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: motos.ddb.endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: motos.events.endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  process.stderr.write('bench: RSA-4096 keys for the simulator, as Atlas mints…\n');
  const keys = await AtlasSimulator.start({ keyPool: 8, keyBits: 4096 });
  const bench: Bench = { dir, preload, proxy, pool: keys.keyPoolKeys };
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
          scenario(bench, { kind: 'full', projects: 10, perProject: n / 10, bucket: GENEROUS }),
        );
    if (scenarios.includes('steady'))
      // Served, refused and unknown: the last two pace by the response headers only.
      for (const n of list(flags.steady).map(Number))
        for (const rateLimits of ['served', 'denied', 'absent'] as const)
          await run(`steady ${n} (rateLimits ${rateLimits})`, () =>
            scenario(bench, {
              kind: 'steady',
              projects: 10,
              perProject: n / 10,
              bucket: GENEROUS,
              rateLimits,
            }),
          );
    if (scenarios.includes('projects')) {
      const [p, u] = flags.projects.split('x').map(Number) as [number, number];
      await run('projects', () =>
        scenario(bench, { kind: 'projects', projects: p, perProject: u, bucket: PER_PROJECT }),
      );
    }
    if (scenarios.includes('stingy'))
      for (const n of list(flags.stingy).map(Number))
        await run(`stingy ${n}`, () => stingy(bench, n));
  } finally {
    await proxy.close();
    await Promise.all(Object.values(motos).map((m) => m.stop()));
    await rm(dir, { recursive: true, force: true });
  }
  print(rows, await bundleSizes());
};

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
