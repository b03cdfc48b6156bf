import { randomBytes } from 'node:crypto';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../functions/domain/report.js';
import { AtlasX509Rotation } from '../../infra/construct.js';
import { createLeaseTable, sm } from '../../tools/aws/seed.js';
import { alarmRunMetricDimensions } from '../support/alarm-dimensions.js';
import { Harness, P1 } from '../support/harness.js';
import { invokeBundle } from '../support/lambda-runner.js';

/**
 * One system (#24.1, D1): the adopter's config file goes to the construct (`configFile`) and to
 * the CLI. The deployed rotate function (the synthesized asset: the shipped bundle and the
 * rotation.config.json the construct wrote beside it) and the CLI, started at the same moment
 * on the same users, take their leases in one table, so each user is minted once.
 */

const USERS = ['app1', 'app2', 'app3'];
/** Long enough that both runs are inside a create at the same time. */
const CREATE_LATENCY_MS = 5_000;

let h: Harness;
let configFile: string;
let rotateAsset: string;
let functionEnv: Record<string, string>;
/** The metrics the synthesized alarms read: each one's dimensions. */
let alarmDimensions: Record<string, unknown>[];

/** The rotate handler of `assetDir` in its own process, as Lambda runs it: the bundle, its config. */
const invokeAsset = (
  assetDir: string,
  event: object,
  printed?: (lines: string[]) => void,
): Promise<RunReport> =>
  invokeBundle<RunReport>({
    bundle: join(assetDir, 'index.mjs'),
    event,
    env: functionEnv,
    // As deployed: the config beside the bundle, the Atlas credential from its secret.
    unset: (name) => name === 'ROTATOR_CONFIG_PATH' || name.startsWith('MONGODB_ATLAS_'),
    ...(printed ? { printed } : {}),
  });

/** The CLI and the deployed function, started in the same tick on the same users. */
const bothAtOnce = async (assetDir: string) => {
  const [cli, lambda] = await Promise.all([
    h.cli(['--config', configFile, '--json'], {}),
    invokeAsset(assetDir, { scheduledTime: new Date().toISOString() }),
  ]);
  const report = JSON.parse(cli.stdout) as RunReport;
  // 0, or 1 when the function held the shared run lock first (the CLI then says who holds it).
  expect([cli.code, report.lockedOut === undefined], cli.stderr).toEqual(
    cli.code === 0 ? [0, true] : [1, false],
  );
  return { cli: report, lambda };
};

/** Certificates Atlas issued for `username` (successful creates). */
const mintsOf = (username: string): number =>
  h.sim.requests.filter(
    (r) => r.method === 'POST' && r.path.endsWith(`/${username}/certs`) && r.status < 300,
  ).length;

beforeAll(async () => {
  h = await Harness.start({ latencyMs: { create: CREATE_LATENCY_MS } });
  for (const user of USERS) h.sim.addUser(P1, user);
  // The adopter's file: its own table, key alias and credential secret, no environment.
  const suffix = randomBytes(4).toString('hex');
  const credentialsSecretId = `adopter-${suffix}/atlas`;
  await sm().send(
    new CreateSecretCommand({
      Name: credentialsSecretId,
      SecretString: JSON.stringify({ clientId: h.clientId, clientSecret: h.clientSecret }),
    }),
  );
  const tableName = `adopter-${suffix}-leases`;
  await createLeaseTable(tableName);
  configFile = await h.writeConfig({
    atlas: { baseUrl: h.sim.baseUrl, credentialsSecretId },
    defaults: { secretNamePrefix: h.prefix, kmsKeyId: `alias/adopter-${suffix}` },
    locks: { tableName },
    projects: [{ projectId: P1, users: USERS }],
  });

  // The adopter's app, synthesized with bundling: the assets are what `cdk deploy` uploads.
  const app = new App({ outdir: join(h.dir, 'cdk.out') });
  const stack = new Stack(app, 'AppStack');
  const rotation = new AtlasX509Rotation(stack, 'Rotation', { configFile });
  const assembly = app.synth();
  const template = assembly.getStackByName('AppStack').template as {
    Resources: Record<
      string,
      { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, string> }
    >;
  };
  const rotateId = stack.getLogicalId(rotation.rotateFunction.node.defaultChild as CfnElement);
  const rotate = template.Resources[rotateId];
  // The staged asset is `asset.<hash>`, the hash being the S3 key's name (what deploy uploads).
  const s3Key = (rotate?.Properties.Code as { S3Key?: string } | undefined)?.S3Key;
  if (!s3Key) throw new Error('no asset on the rotate function');
  rotateAsset = join(assembly.directory, `asset.${s3Key.replace(/\.zip$/, '')}`);
  const variables = (rotate?.Properties.Environment as { Variables?: Record<string, unknown> })
    ?.Variables;
  functionEnv = Object.fromEntries(
    Object.entries(variables ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  alarmDimensions = alarmRunMetricDimensions(template.Resources);
}, 120_000);
afterAll(() => h.close());

describe('the CLI and the deployed function on one config file', () => {
  it("ship the same names: the asset carries the adopter's file as given", async () => {
    const given = JSON.parse(await readFile(configFile, 'utf8'));
    const shipped = JSON.parse(await readFile(join(rotateAsset, 'rotation.config.json'), 'utf8'));
    expect(shipped).toEqual(given);
  });

  it('started at the same moment, mint once per user: one run holds the lock and the leases', async () => {
    const { cli, lambda } = await bothAtOnce(rotateAsset);
    for (const user of USERS) expect([user, mintsOf(user)]).toEqual([user, 1]);
    const rows = USERS.map((user) =>
      [cli, lambda].map((r) => r.users.find((u) => u.username === user)),
    );
    for (const [fromCli, fromLambda] of rows) {
      const actions = [fromCli?.action, fromLambda?.action];
      expect(actions.filter((a) => a === 'rotated')).toHaveLength(1);
      // The other run met the first in the shared table, not just in time: refused by the run
      // lock there (every writing run takes it), or, had it got in, by the user's lease.
      const [other, otherRow] =
        fromCli?.action === 'rotated' ? [lambda, fromLambda] : [cli, fromCli];
      if (otherRow) expect(otherRow.reason).toMatch(/^another run holds the lease/);
      else expect(other.lockedOut?.holder).toMatch(/\S/);
    }
    expect(h.leaks()).toEqual([]);
  }, 120_000);

  it('emits its run metrics under the very dimensions its alarms read', async () => {
    const printed: string[] = [];
    const report = await invokeAsset(
      rotateAsset,
      { scheduledTime: new Date().toISOString() },
      (l) => printed.push(...l),
    );
    expect(report.lockedOut).toBeUndefined();
    const emf = printed
      .map((line) => JSON.parse(line))
      .find((o) => o._aws?.CloudWatchMetrics && o.RunCompleted === 1);
    // CloudWatch matches a metric by its whole dimension set: the same names, the same values.
    const [emitted] = emf._aws.CloudWatchMetrics[0].Dimensions as string[][];
    const asEmitted = Object.fromEntries((emitted ?? []).map((name) => [name, emf[name]]));
    expect(alarmDimensions.length).toBeGreaterThanOrEqual(8);
    for (const dimensions of alarmDimensions) expect(dimensions).toEqual(asEmitted);
    expect(asEmitted.deployment).toMatch(/^AppStack-Rotation-/);
  }, 60_000);

  it('would both mint with two tables (the bug this replaces): the check above can fail', async () => {
    // The asset as the construct used to ship it: the table name overwritten with its own.
    const other = join(h.dir, 'asset-own-table');
    await cp(rotateAsset, other, { recursive: true });
    const shipped = JSON.parse(await readFile(join(other, 'rotation.config.json'), 'utf8'));
    const ownTable = `${shipped.locks.tableName}-own`;
    await createLeaseTable(ownTable);
    await writeFile(
      join(other, 'rotation.config.json'),
      JSON.stringify({ ...shipped, locks: { tableName: ownTable } }),
    );
    const fresh = 'app4';
    h.sim.addUser(P1, fresh);
    const withFresh = JSON.parse(await readFile(configFile, 'utf8'));
    withFresh.projects = [{ projectId: P1, users: [fresh] }];
    await writeFile(configFile, JSON.stringify(withFresh));
    await writeFile(
      join(other, 'rotation.config.json'),
      JSON.stringify({ ...withFresh, locks: { tableName: ownTable } }),
    );
    await bothAtOnce(other);
    expect(mintsOf(fresh)).toBe(2);
  }, 120_000);
});
