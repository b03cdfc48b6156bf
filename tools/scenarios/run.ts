import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AwsFaultProxy } from '../aws/fault-proxy.js';
import { cliArgs } from '../cli.js';
import type { RsaKeyPair } from '../simulator/pki.js';
import type { Scenario } from './catalog.js';

const P = '5e2211c17a3e5a48f5497de3';
const DAY = 86_400_000;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** One scenario's line of the table. */
export interface Row {
  name: string;
  minted: number;
  lost: number;
  perUser: number;
  seconds: number;
  outcome: string;
}

/** What a scenario runs against: moto_server behind the fault proxy, and a scratch directory. */
export interface ScenarioBench {
  proxy: AwsFaultProxy;
  dir: string;
  /** Keys for the simulator to mint with, made once by the caller (default: a pool of 16 each). */
  keys?: readonly RsaKeyPair[];
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

/** The CLI (the suite's bundle, or the sources under tsx), SIGKILLed as a group if asked. */
const runCli = (
  args: string[],
  env: NodeJS.ProcessEnv,
  killAfterMs: number | undefined,
): Promise<{ stdout: string; killed: boolean }> =>
  new Promise((resolve) => {
    const [command = 'rotate', ...rest] = args;
    const child = spawn(process.execPath, cliArgs(command, rest), {
      cwd: ROOT,
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

/**
 * Runs one scenario: a fresh Atlas simulator and lease table, its faults injected, its runs,
 * then what Atlas minted against what Secrets Manager holds. The SDK's endpoint variables must
 * point at moto_server before this module's callers import it.
 */
export const runScenario = async (s: Scenario, bench: ScenarioBench): Promise<Row> => {
  const { proxy, dir } = bench;
  const { AtlasSimulator } = await import('../simulator/atlas-simulator.js');
  const { createLeaseTable, seedSecret, sm } = await import('../aws/seed.js');
  const { ListSecretVersionIdsCommand, GetSecretValueCommand } = await import(
    '@aws-sdk/client-secrets-manager'
  );
  const { secretNameFor } = await import('../../functions/domain/config/secret-name.js');
  const clientId = 'mdb_sa_id_scenarios';
  const clientSecret = randomBytes(16).toString('hex');
  const sim = await AtlasSimulator.start({
    serviceAccounts: [{ clientId, clientSecret }],
    ...(bench.keys ? { keys: bench.keys } : { keyPool: 16 }),
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
        const { handler } = await import('../../functions/rotate/handler.js');
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
    const mintedSerials = users.flatMap((u) => sim.certificates(P, u).map((c) => c.serialNumber));
    const lost = mintedSerials.filter((serial) => !stored.has(serial)).length;
    return {
      name: s.name,
      minted,
      lost,
      perUser: Math.max(0, ...perUser),
      seconds,
      outcome: outcomes.length > 2 ? `last run: ${outcomes.at(-1)}` : outcomes.join('; then '),
    };
  } finally {
    hung?.server.close();
    await sim.close();
  }
};

/** The table docs/reliability.md shows. */
export const scenarioTable = (rows: readonly Row[]): string =>
  [
    '| scenario | certificates minted | keys lost | mints per user (max) | time to finish | report |',
    '|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.minted} | ${r.lost} | ${r.perUser} | ${r.seconds.toFixed(1)} s | ${r.outcome} |`,
    ),
  ].join('\n');

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
