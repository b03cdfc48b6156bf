import { DeleteItemCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLOCK_SKEW_BOUND_MS } from '../../functions/adapters/aws/lease-table.js';
import type { RunReport } from '../../functions/domain/report.js';
import { RUN_LOCK_KEY } from '../../functions/domain/rotation/catch-up.js';
import { ddb } from '../../tools/aws/seed.js';
import { importHandlerBundle } from '../support/bundles.js';
import { Harness, P1 } from '../support/harness.js';

// Issues #25.7 and #25.8 end to end: the shipped handler bundle and the CLI process, on moto_server
// and the Atlas simulator. On main the CLI and manual invokes took no run lock (two writers, each
// paced at 40/s), and a scheduled run the lock refused returned `notRun`, left no note and emitted
// no metric: that day's run did not happen.

let h: Harness;
let printed: string[];
let configPath: string;
beforeEach(async () => {
  printed = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    printed.push(String(chunk));
    return true;
  });
  h = await Harness.start();
  h.sim.addUser(P1, 'app1');
  configPath = await h.writeConfig(h.config({ projects: [{ projectId: P1, users: ['app1'] }] }));
  vi.stubEnv('ROTATOR_CONFIG_PATH', configPath);
  for (const [k, v] of Object.entries(h.atlasEnv)) vi.stubEnv(k, v);
  vi.resetModules();
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await h.close();
});

const context = (id: string): Context =>
  ({ awsRequestId: id, getRemainingTimeInMillis: () => 300_000 }) as Context;
type RotateModule = typeof import('../../functions/rotate/handler.js');
const handler = async () => (await importHandlerBundle<RotateModule>('rotate')).handler;

/** The run lock as a run that crashed (or is still at work) left it, expiring at `expiresAt`. */
const holdLock = (owner: string, expiresAt: number) =>
  ddb().send(
    new PutItemCommand({
      TableName: h.tableName,
      Item: {
        pk: { S: RUN_LOCK_KEY },
        owner: { S: owner },
        expiresAt: { N: String(expiresAt) },
      },
    }),
  );
const note = async () =>
  (
    await ddb().send(
      new GetItemCommand({
        TableName: h.tableName,
        Key: { pk: { S: '#catch-up' } },
        ConsistentRead: true,
      }),
    )
  ).Item;
const emf = () =>
  printed
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line))
    .filter((o) => o._aws?.CloudWatchMetrics);

describe('the run lock, for every writing run', () => {
  it('a scheduled run refused by the lock leaves a catch-up note, says why, and emits RunNotStarted; the catch-up tick runs it', async () => {
    await holdLock('crashed-run', Date.now() + 60_000);
    const refused = await (await handler())(
      { scheduledTime: '2026-11-28T03:00:00Z' },
      context('req-sched'),
    );
    expect(refused).toMatchObject({
      users: [],
      lockedOut: {
        holder: 'crashed-run',
        retry: 'a catch-up note is left: the catch-up schedule runs it once the lock is free',
      },
    });
    expect(refused.notRun).toMatch(/^another run \(crashed-run\) holds the run lock until /);
    expect(await note()).toMatchObject({ runs: { N: '0' } });
    expect(emf()).toEqual([expect.objectContaining({ RunNotStarted: 1 })]);
    expect(emf()[0].RunCompleted).toBeUndefined();
    expect(h.sim.count('POST', '/certs')).toBe(0);

    // The crashed run's lock lapses (its expiry, plus the skew bound): the next tick runs.
    await holdLock('crashed-run', Date.now() - CLOCK_SKEW_BOUND_MS - 1);
    printed.length = 0;
    const caught = await (await handler())({ catchUp: true }, context('req-tick'));
    expect(caught.notRun).toBeUndefined();
    expect(caught).toMatchObject({ trigger: 'catch-up', summary: { rotated: 1 } });
    expect(emf()).toEqual([expect.objectContaining({ RunCompleted: 1, RunNotStarted: 0 })]);
    expect(await note()).toBeUndefined();
  });

  it('a forced invoke without scheduledTime is refused while another run writes, naming it', async () => {
    await holdLock('req-sched', Date.now() + 60_000);
    const report: RunReport = await (await handler())(
      {
        force: true,
        requestedAt: new Date().toISOString(),
        only: [{ projectId: P1, username: 'app1' }],
      },
      context('req-forced'),
    );
    expect(report.lockedOut).toMatchObject({ holder: 'req-sched' });
    expect(report.lockedOut?.retry).toContain('run again once it has finished');
    expect(h.sim.count('POST', '/certs')).toBe(0);
    // A manual run leaves no note: it is the operator's to run again.
    expect(await note()).toBeUndefined();
  });

  it('the CLI, another process, is refused too (exit 1), and runs once the lock is free', async () => {
    await holdLock('req-sched', Date.now() + 60_000);
    const refused = await h.cli(['--config', configPath]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('Not run: another run (req-sched) holds the run lock until');
    expect(h.sim.count('POST', '/certs')).toBe(0);
    await holdLock('req-sched', Date.now() - CLOCK_SKEW_BOUND_MS - 1);
    const ran = await h.cli(['--config', configPath, '--json']);
    expect(ran.code).toBe(0);
    expect((JSON.parse(ran.stdout) as RunReport).summary.rotated).toBe(1);
    // It released the lock: nothing holds it after the run.
    const lock = await ddb().send(
      new GetItemCommand({ TableName: h.tableName, Key: { pk: { S: RUN_LOCK_KEY } } }),
    );
    expect(lock.Item).toBeUndefined();
  });

  it('the CLI with --wait-for-lock waits for the holder to finish, then runs; past the wait it is refused', async () => {
    await holdLock('req-sched', Date.now() + 60_000);
    const short = await h.cli(['--config', configPath, '--wait-for-lock', '1']);
    expect(short.code).toBe(1);
    expect(short.stdout).toContain('Not run: another run (req-sched) holds the run lock');
    const started = Date.now();
    const waiting = h.cli(['--config', configPath, '--json', '--wait-for-lock', '60']);
    // The holder finishes (releases the lock) while the CLI waits.
    await new Promise((r) => setTimeout(r, 2_000));
    await ddb().send(
      new DeleteItemCommand({ TableName: h.tableName, Key: { pk: { S: RUN_LOCK_KEY } } }),
    );
    const ran = await waiting;
    expect(ran.code, ran.stderr).toBe(0);
    // Said once, so the wait is not mistaken for a hang.
    expect(
      ran.stderr.match(/Waiting for the run lock, held by req-sched: up to \d+ s/g),
    ).toHaveLength(1);
    expect((JSON.parse(ran.stdout) as RunReport).summary.rotated).toBe(1);
    // It waited for the release (one 5 s poll at most), not for the lock's 60 s expiry.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(h.sim.count('POST', '/certs')).toBe(1);
  }, 60_000);

  it('the CLI refused at once names the flag that waits, and says the refusal once', async () => {
    await holdLock('req-sched', Date.now() + 60_000);
    const refused = await h.cli(['--config', configPath, '--quiet'], h.operatorEnv);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('add --wait-for-lock <seconds>');
    // The report's "Not run:" line says it; no JSON log line repeats it on stderr.
    expect(refused.stdout).toContain('Not run: another run (req-sched)');
    expect(refused.stderr).not.toContain('run not started');
    expect((await h.cli(['--config', configPath, '--wait-for-lock', 'soon'])).stderr).toContain(
      '--wait-for-lock must be a number of seconds',
    );
  });
});
