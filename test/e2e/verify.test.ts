import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runEvents, runMetrics } from '../../functions/adapters/signals.js';
import type { RawConfig } from '../../functions/domain/config/schema.js';
import { versionIdFor } from '../../functions/domain/stored-value.js';
import { readSecret } from '../../tools/aws/seed.js';
import { MongoStandIn } from '../../tools/simulator/mongo-standin.js';
import { importHandlerBundle } from '../support/bundles.js';
import { daysFromNow, Harness, P1, P2, rowOf } from '../support/harness.js';

/**
 * The login check end to end: the real `mongodb` driver presents each new certificate, from
 * memory, to a stand-in cluster node that speaks the wire protocol over TLS and trusts only the
 * project's Atlas CA (the simulator's) and the project's users; Atlas is the simulator, Secrets
 * Manager and DynamoDB are moto_server through the real SDK.
 */

let h: Harness;
let standIns: MongoStandIn[];
beforeEach(async () => {
  h = await Harness.start();
  h.sim.addUser(P1, 'app1');
  standIns = [];
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await Promise.all(standIns.map((s) => s.close()));
  expect(h.leaks()).toEqual([]);
  await h.close();
});

/** A cluster node trusting `caOf`'s Atlas CA (by default the user's own project's). */
const standIn = async (options: { caOf?: string; users?: string[] } = {}) => {
  const node = await MongoStandIn.start({
    clientCa: await h.sim.projectCaPem(options.caOf ?? P1),
    users: options.users ?? ['app1'],
  });
  standIns.push(node);
  return node;
};
const configFor = (node: MongoStandIn): RawConfig =>
  h.config({ projects: [{ projectId: P1, users: ['app1'], verify: { uri: node.uri } }] });
const stagesOf = async () => (await readSecret(h.secretName(P1, 'app1'))).stages;
const minted = () => h.sim.count('POST', '/certs');

const context = (): Context =>
  ({
    awsRequestId: 'req-verify',
    functionName: 'rotate',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:rotate',
    memoryLimitInMB: '512',
    logGroupName: '/aws/lambda/rotate',
    logStreamName: 's',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 300_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }) as Context;

describe('login check (verify.uri) through the mongodb driver', () => {
  it('the shipped rotate handler promotes a certificate that logs in and answers ping', async () => {
    const node = await standIn();
    const held = await h.seedDue(P1, 'app1', 20);
    vi.stubEnv('ROTATOR_CONFIG_PATH', await h.writeConfig(configFor(node)));
    for (const [k, v] of Object.entries(h.atlasEnv)) vi.stubEnv(k, v);
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    vi.resetModules();
    type RotateModule = typeof import('../../functions/rotate/handler.js');
    const { handler } = await importHandlerBundle<RotateModule>('rotate');

    const report = await handler({}, context());
    const row = rowOf(report, 'app1');
    expect(row).toMatchObject({ action: 'rotated', verify: { outcome: 'passed' } });
    expect(row.serialNumber).not.toBe(held.serialNumber);
    // It authenticated as CN=app1 with the new certificate, then pinged.
    expect(node.accepted).toEqual([row.serialNumber]);
    expect(node.pings).toBe(1);
    expect((await readSecret(h.secretName(P1, 'app1'))).current.serialNumber).toBe(
      row.serialNumber,
    );
    const emf = printed.map((line) => JSON.parse(line)).find((o) => o._aws?.CloudWatchMetrics);
    expect(emf).toMatchObject({ RotatedUsers: 1, VerifyBypassed: 0 });
  });

  it('holds back a certificate the cluster refuses, then the next run checks it again, minting nothing', async () => {
    // The URI points at a cluster of another project: its CA did not sign our certificates.
    const wrong = await standIn({ caOf: P2 });
    const held = await h.seedDue(P1, 'app1', 20);
    // A refused handshake retries until the driver's timeout: a short one keeps this test short.
    const first = rowOf(
      await h.run(configFor(wrong), {}, { tuning: { verifyTimeoutMs: 1_500 } }),
      'app1',
    );
    expect(first).toMatchObject({
      action: 'failed',
      errorCode: 'VERIFY_FAILED',
      serialNumber: held.serialNumber,
      verify: { outcome: 'failed', error: expect.stringMatching(/^MongoServerSelectionError: /) },
    });
    expect(first.reason).toMatch(
      / stored as AWSPENDING, not made current: its login check failed: /,
    );
    const pending = first.reason.match(/^certificate (\d+) /)?.[1] ?? '';
    expect(await stagesOf()).toMatchObject({
      [versionIdFor(held.serialNumber)]: ['AWSCURRENT'],
      [versionIdFor(pending)]: ['AWSPENDING'],
    });
    expect(wrong.accepted).toEqual([]);
    expect(minted()).toBe(1);

    // The path is fixed (the right cluster): the pending certificate is checked and promoted.
    const right = await standIn();
    const second = rowOf(await h.run(configFor(right)), 'app1');
    expect(second).toMatchObject({
      action: 'resumed',
      serialNumber: pending,
      verify: { outcome: 'passed' },
    });
    expect(right.accepted).toEqual([pending]);
    expect(minted()).toBe(1);
    expect((await readSecret(h.secretName(P1, 'app1'))).current.serialNumber).toBe(pending);
  });

  it('promotes past a persistent failure once the current certificate nears expiry, with the metric and the event', async () => {
    // The cluster does not know the user: every login is refused (UserNotFound).
    const node = await standIn({ users: [] });
    const held = await h.seedDue(P1, 'app1', 20);
    const config = configFor(node);
    const first = rowOf(await h.run(config), 'app1');
    expect(first).toMatchObject({ action: 'failed', errorCode: 'VERIFY_FAILED' });
    expect(first.verify?.error).toContain('11 UserNotFound: Could not find user "CN=app1"');
    const pending = first.reason.match(/^certificate (\d+) /)?.[1] ?? '';

    // Fifteen days on, five are left (criticalDays 7): the check still fails, and no longer holds.
    const later = () => daysFromNow(15);
    const report = await h.run(config, {}, { now: later });
    const row = rowOf(report, 'app1');
    expect(row).toMatchObject({
      action: 'resumed',
      serialNumber: pending,
      verify: { outcome: 'bypassed', error: expect.stringContaining('UserNotFound') },
    });
    expect(row.reason).toMatch(
      /; made current although its login check failed \(the certificate it replaces expires in 5\.0 days, within criticalDays 7\): MongoServerError 11 UserNotFound/,
    );
    expect(node.accepted).toEqual([]);
    expect(minted()).toBe(1);
    const stages = await stagesOf();
    expect(stages[versionIdFor(pending)]).toEqual(['AWSCURRENT']);
    expect(stages[versionIdFor(held.serialNumber)]).toEqual(['AWSPREVIOUS']);
    // What the run published and what the alarm reads.
    expect(runMetrics(report, later(), { criticalDays: 7 }).VerifyBypassed).toBe(1);
    expect(report.events).toMatchObject({ published: 1, dropped: 0 });
    expect(runEvents(report, later())).toEqual([
      {
        detailType: 'Atlas X509 Certificate Rotated',
        detail: expect.objectContaining({
          serialNumber: pending,
          verify: { outcome: 'bypassed', error: expect.stringContaining('UserNotFound') },
        }),
      },
    ]);
  });
});
