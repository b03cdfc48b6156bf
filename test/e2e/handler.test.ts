import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { importHandlerBundle } from '../support/bundles.js';
import { Harness, P1 } from '../support/harness.js';

let h: Harness;
/** What the handler wrote to stdout (its EMF metrics): captured, so the suite's output stays quiet. */
let printed: string[];
beforeEach(async () => {
  printed = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    printed.push(String(chunk));
    return true;
  });
  h = await Harness.start();
  h.sim.addUser(P1, 'app1');
  const config = await h.writeConfig(h.config({ projects: [{ projectId: P1, users: ['app1'] }] }));
  vi.stubEnv('ROTATOR_CONFIG_PATH', config);
  for (const [k, v] of Object.entries(h.atlasEnv)) vi.stubEnv(k, v);
  vi.resetModules(); // the handler reads its config once per container
});
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await h.close();
});

const context = (remainingMs = 300_000): Context =>
  ({
    awsRequestId: 'req-0001',
    functionName: 'rotate',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:rotate',
    memoryLimitInMB: '512',
    logGroupName: '/aws/lambda/rotate',
    logStreamName: 's',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }) as Context;

type RotateModule = typeof import('../../functions/rotate/handler.js');

/** The handler as it ships: the prebuilt bundle, loaded fresh for each test. */
const handler = async () => (await importHandlerBundle<RotateModule>('rotate')).handler;

it('runs on the Node version npm test chose (Lambda runs Node 24)', () => {
  // scripts/test.sh runs the suite on Node 24 and says so here; a plain `npx vitest` does not.
  const expected = process.env.ROTATOR_TEST_NODE_MAJOR;
  if (expected) expect(process.versions.node.split('.')[0]).toBe(expected);
  expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(20);
});

describe('rotate Lambda handler', () => {
  it('runs everything for the scheduled payload, returns the report and emits run metrics', async () => {
    const report = await (await handler())({ scheduledTime: '2026-11-28T03:00:00Z' }, context());
    expect(report.runId).toBe('req-0001');
    expect(report.users).toEqual([
      expect.objectContaining({ username: 'app1', action: 'rotated' }),
    ]);
    const emf = printed.map((line) => JSON.parse(line)).find((o) => o._aws?.CloudWatchMetrics);
    expect(emf._aws.CloudWatchMetrics[0].Namespace).toBe('AtlasX509Rotator');
    expect(emf).toMatchObject({
      service: 'atlas-x509-rotator',
      RotatedUsers: 1,
      FailedUsers: 0,
      RunCompleted: 1,
    });
    expect(emf.MinDaysToExpiry).toBeGreaterThan(80);
  });

  it('plans on {"dryRun": true}', async () => {
    const report = await (await handler())({ dryRun: true }, context());
    expect(report.users[0]?.action).toBe('planned');
    expect(h.sim.count('POST', '/certs')).toBe(0);
  });

  it('defers when invoked with too little time left', async () => {
    const report = await (await handler())({}, context(30_000));
    expect(report.users[0]?.action).toBe('deferred');
    expect(h.sim.count('POST', '/certs')).toBe(0);
  });

  it.each([
    [{ dryRun: 'yes' }, 'dryRun: Invalid input: expected boolean'],
    [{ force: true }, 'force needs an explicit list of users'],
    [
      { only: [{ projectId: 'nope', username: 'a' }] },
      'only[0].projectId: must be a 24-character hex project id',
    ],
    [{ surprise: 1 }, 'Unrecognized key: "surprise"'],
    [
      { force: true, all: true, requestId: 'two words' },
      'requestId: must be 1 to 128 characters of letters, digits and ._:-',
    ],
    [
      { force: true, all: true, requestedAt: '2999-01-01T00:00:00Z' },
      'requestedAt: 2999-01-01T00:00:00Z is in the future',
    ],
    [{ force: true, all: true, requestedAt: 'yesterday' }, 'requestedAt: Invalid ISO datetime'],
    ['{}', 'expected object'],
  ])('rejects %j before any call', async (event, message) => {
    await expect((await handler())(event, context())).rejects.toThrow(message);
    expect(h.sim.requests).toHaveLength(0);
  });

  it('a retried forced invoke mints nothing more for users it already served', async () => {
    // The AWS CLI retries `lambda invoke` after its read timeout: the same payload, a new
    // invocation. The first try's certificate was stored after requestedAt: it is the answer.
    const payload = {
      force: true,
      all: true,
      requestedAt: new Date(Date.now() - 1_000).toISOString(),
    };
    const first = await (await handler())(payload, context());
    expect(first.summary).toMatchObject({ rotated: 1 });
    expect(h.sim.count('POST', '/certs')).toBe(1);

    const retried = await (await handler())(payload, context());
    expect(retried.users[0]).toMatchObject({
      action: 'skipped',
      serialNumber: first.users[0]?.serialNumber,
      reason: expect.stringMatching(/^forced request already served: request at-[0-9a-f]{32} /),
    });
    expect(h.sim.count('POST', '/certs')).toBe(1);

    // A new request is a new intent: it mints again.
    const again = await (await handler())(
      { ...payload, requestedAt: new Date(Date.now() + 120_000).toISOString() },
      context(),
    );
    expect(again.summary).toMatchObject({ rotated: 1 });
    expect(h.sim.count('POST', '/certs')).toBe(2);
  });

  // #24.3, #25.10: forced requests are served once by identity, not by a clock.
  const only = [{ projectId: P1, username: 'app1' }];

  it("accepts docs/deploy.md's forced payload without requestedAt, and mints for each such invoke", async () => {
    const first = await (await handler())({ force: true, only }, context());
    expect(first.users[0]).toMatchObject({ action: 'rotated' });
    expect(first.requestNote).toMatch(/no requestId/);
    const second = await (await handler())({ force: true, only }, context());
    expect(second.users[0]).toMatchObject({ action: 'rotated' });
    expect(second.users[0]?.serialNumber).not.toBe(first.users[0]?.serialNumber);
    expect(h.sim.count('POST', '/certs')).toBe(2);
  });

  it('forced one second after the schedule rotated the user, mints a new certificate', async () => {
    const scheduled = await (await handler())(
      { scheduledTime: new Date().toISOString() },
      context(),
    );
    expect(scheduled.users[0]).toMatchObject({ action: 'rotated' });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const forced = await (await handler())(
      { force: true, only, requestedAt: new Date().toISOString() },
      context(),
    );
    expect(forced.users[0]).toMatchObject({ action: 'rotated' });
    expect(forced.users[0]?.serialNumber).not.toBe(scheduled.users[0]?.serialNumber);
    expect(h.sim.count('POST', '/certs')).toBe(2);
  });

  it('a retried invoke of the same requestId gets no second certificate; a new id gets one', async () => {
    const payload = { force: true, only, requestId: 'ticket-4711' };
    const first = await (await handler())(payload, context());
    expect(first).toMatchObject({ requestId: 'ticket-4711', summary: { rotated: 1 } });
    const retried = await (await handler())(payload, context());
    expect(retried.users[0]).toMatchObject({
      action: 'skipped',
      serialNumber: first.users[0]?.serialNumber,
      reason: expect.stringMatching(/^forced request already served: request ticket-4711 /),
    });
    expect(h.sim.count('POST', '/certs')).toBe(1);
    const next = await (await handler())({ ...payload, requestId: 'ticket-4712' }, context());
    expect(next.summary).toMatchObject({ rotated: 1 });
    expect(h.sim.count('POST', '/certs')).toBe(2);
  });
});
