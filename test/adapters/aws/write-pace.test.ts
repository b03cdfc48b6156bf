import { Readable } from 'node:stream';
import {
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SlidingWindow } from '../../../functions/adapters/aws/write-pace.js';

/** Every `limit`-th start after another is at least the interval later: the invariant. */
const spacings = (starts: number[], limit: number) =>
  starts.slice(limit).map((t, i) => t - (starts[i] as number));

describe('write pace: a sliding window counted at each real start', () => {
  it('spreads starts evenly, `limit` a window at most, in arrival order', async () => {
    const window = new SlidingWindow(3, 60);
    const starts: number[] = [];
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 9 }, (_, i) =>
        window.run(async () => {
          starts.push(performance.now());
          order.push(i);
        }),
      ),
    );
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    for (const gap of spacings(starts, 3)) expect(gap).toBeGreaterThanOrEqual(59);
    for (const gap of spacings(starts, 1)) expect(gap).toBeGreaterThanOrEqual(19);
  });

  it('does not bunch starts after the event loop was blocked (late timers)', async () => {
    const window = new SlidingWindow(4, 50);
    const starts: number[] = [];
    const all = Array.from({ length: 16 }, () =>
      window.run(async () => {
        starts.push(performance.now());
      }),
    );
    // Block the loop across several slots: every timer due meanwhile fires late, at once.
    await new Promise((r) => setTimeout(r, 10));
    const until = performance.now() + 120;
    while (performance.now() < until) {
      /* busy, as a large synchronous check would be */
    }
    await Promise.all(all);
    for (const gap of spacings(starts, 4)) expect(gap).toBeGreaterThanOrEqual(49);
  });

  it('a failed write keeps its slot and the queue moving', async () => {
    const window = new SlidingWindow(1, 20);
    const failed = window.run(async () => {
      throw new Error('throttled');
    });
    await expect(failed).rejects.toThrow('throttled');
    await expect(window.run(async () => 'next')).resolves.toBe('next');
  });
});

/** The most calls that fell within any one second. */
const busiestSecond = (times: readonly number[]): number =>
  Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));

// Secrets Manager's write quota (50 a second per family; the rotator takes 40 of it) is one more
// thing moto cannot model: a real client, its requests answered in memory.
describe('write pace: the SDK middleware on a Secrets Manager client', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.resetModules(); // a fresh process's windows
  });
  afterEach(() => vi.useRealTimers());

  const clientWith = async (sent: Record<string, number[]>) => {
    const { WRITE_PACE_STEP, writePace } = await import(
      '../../../functions/adapters/aws/write-pace.js'
    );
    const client = new SecretsManagerClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      requestHandler: {
        handle: async (request: { headers: Record<string, string> }) => {
          const action = String(request.headers['x-amz-target']).split('.').pop() ?? '';
          sent[action] = [...(sent[action] ?? []), Date.now()];
          const body = Readable.from([Buffer.from('{}')]);
          return { response: { statusCode: 200, headers: {}, body } };
        },
      },
    });
    client.middlewareStack.add(writePace, WRITE_PACE_STEP);
    // The client resolves its settings on its first call, partly from files on disk: real I/O
    // that fake time cannot hurry (a loaded machine sent nothing within 30 fake ms). A read on
    // real timers settles them; the paced calls below then see fake time only.
    vi.useRealTimers();
    await client.send(new DescribeSecretCommand({ SecretId: 'warm-up' }));
    delete sent.DescribeSecret;
    vi.useFakeTimers();
    return client;
  };

  it('sends at most 40 writes of one family in any second; families have their own quota; reads go at once', async () => {
    const sent: Record<string, number[]> = {};
    const client = await clientWith(sent);
    const Id = 'atlas-x509/p/u';
    const calls = [
      ...Array.from({ length: 90 }, (_, i) =>
        i % 2
          ? client.send(new PutSecretValueCommand({ SecretId: Id, SecretString: '{}' }))
          : client.send(
              new UpdateSecretVersionStageCommand({ SecretId: Id, VersionStage: 'AWSCURRENT' }),
            ),
      ),
      ...Array.from({ length: 60 }, () =>
        client.send(new TagResourceCommand({ SecretId: Id, Tags: [] })),
      ),
      ...Array.from({ length: 60 }, () => client.send(new DescribeSecretCommand({ SecretId: Id }))),
    ];
    await vi.advanceTimersByTimeAsync(30);
    const value = () => [...(sent.PutSecretValue ?? []), ...(sent.UpdateSecretVersionStage ?? [])];
    // Reads at once; writes one at a time per family, then one every 25 ms.
    expect([value().length, sent.TagResource?.length, sent.DescribeSecret?.length]).toEqual([
      2, 2, 60,
    ]);
    await vi.advanceTimersByTimeAsync(5_000);
    await Promise.all(calls);
    expect([busiestSecond(value()), busiestSecond(sent.TagResource ?? [])]).toEqual([40, 40]);
    const gaps = [...value()].sort((x, y) => x - y).map((t, i, all) => t - (all[i - 1] ?? t - 25));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(25);
    // 90 value writes at 40 a second need over two seconds.
    expect(Math.max(...value()) - Math.min(...value())).toBeGreaterThanOrEqual(2_000);
  });

  it('paces policy reads with policy writes: GetResourcePolicy shares their quota', async () => {
    const sent: Record<string, number[]> = {};
    const client = await clientWith(sent);
    const SecretId = 'atlas-x509/p/u';
    const calls = Array.from({ length: 60 }, (_, i) =>
      i % 2
        ? client.send(new GetResourcePolicyCommand({ SecretId }))
        : client.send(new PutResourcePolicyCommand({ SecretId, ResourcePolicy: '{}' })),
    );
    await vi.advanceTimersByTimeAsync(2_000);
    await Promise.all(calls);
    const policy = [...(sent.GetResourcePolicy ?? []), ...(sent.PutResourcePolicy ?? [])];
    expect([policy.length, busiestSecond(policy)]).toEqual([60, 40]);
  });

  it('sits inside the retry loop, so each retry is paced too', async () => {
    const client = await clientWith({});
    const order = client.middlewareStack.identify().map((m) => m.split(' ')[0]);
    expect(order.indexOf('writePace')).toBeGreaterThan(order.indexOf('retryMiddleware'));
    expect(order.at(-1)).toBe('writePace');
  });
});
