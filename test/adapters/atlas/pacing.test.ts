import { describe, expect, it } from 'vitest';
import type { CallSpec } from '../../../functions/adapters/atlas/call.js';
import {
  publishedShape,
  type RateLimitInfo,
  RateLimitPacing,
} from '../../../functions/adapters/atlas/pacing.js';

const A = 'aaaaaaaaaaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbbbbbbbbbb';
const list = (groupId: string): CallSpec => ({
  method: 'GET',
  path: `/api/atlas/v2/groups/${groupId}/databaseUsers/u/certs`,
  groupId,
  safety: 'safe',
});
const create = (groupId: string): CallSpec => ({
  ...list(groupId),
  method: 'POST',
  safety: 'create',
});
const ok = (remaining: number, limit = 100): RateLimitInfo => ({
  status: 200,
  limit,
  remaining,
  retryAfterMs: undefined,
});
const throttled = (retryAfterMs: number, shape?: RateLimitInfo['shape']): RateLimitInfo => ({
  status: 429,
  limit: undefined,
  remaining: undefined,
  retryAfterMs,
  shape,
});

/** A pacing on a fake clock: `sleep` records each wait; time moves only when a test moves it. */
const paced = (maxUsers = 64) => {
  const clock = { now: 1_000_000, waits: [] as number[] };
  const pacing = new RateLimitPacing({
    maxUsers,
    now: () => clock.now,
    sleep: async (ms) => {
      clock.waits.push(ms);
    },
  });
  return { pacing, clock };
};
/** Sends one request through the pace and answers it. */
const send = async (
  pacing: RateLimitPacing,
  spec: CallSpec,
  info: RateLimitInfo = ok(50),
  admission: Parameters<RateLimitPacing['admit']>[1] = { sendBy: undefined },
) => {
  const refused = await pacing.admit(spec, admission);
  if (!refused) pacing.observe(spec, info);
  return refused;
};

describe('pacing: users in flight, per bucket', () => {
  it('starts each bucket at 2 without a published shape, and follows its headers', () => {
    const { pacing } = paced();
    expect(pacing.usersFor(A)).toBe(2);
    for (let i = 0; i < 6; i++) pacing.observe(list(A), ok(80));
    expect(pacing.usersFor(A)).toBe(8); // a quarter of the bucket is left beyond them: +1 each
    pacing.observe(list(A), ok(5)); // under a tenth: half
    expect(pacing.usersFor(A)).toBe(4);
    expect(pacing.usersFor(B)).toBe(2); // another project's bucket is its own
  });

  it('halves on a 429, never below one, and ignores responses without headers', () => {
    const { pacing } = paced();
    for (let i = 0; i < 6; i++) pacing.observe(list(A), ok(100));
    pacing.observe(list(A), throttled(1000));
    expect(pacing.usersFor(A)).toBe(4);
    for (let i = 0; i < 5; i++) pacing.observe(list(A), throttled(1000));
    expect(pacing.usersFor(A)).toBe(1);
    pacing.observe(list(B), {
      status: 200,
      limit: undefined,
      remaining: undefined,
      retryAfterMs: undefined,
    });
    expect(pacing.usersFor(B)).toBe(2);
  });

  it('starts from the published bucket: its burst and what its refill sustains, two tokens a user', () => {
    const { pacing } = paced();
    pacing.publish({ capacity: 20, refillPerSecond: 5, scope: 'GROUP' });
    expect(pacing.usersFor(A)).toBe(15); // 20/2 + 5×2 s/2
    const { pacing: generous } = paced(64);
    generous.publish({ capacity: 100, refillPerSecond: 100, scope: 'GROUP' });
    expect(generous.usersFor(A)).toBe(64); // capped by rotation.concurrency
  });

  it('really bounds the work in flight per bucket and over the run', async () => {
    const { pacing } = paced(3);
    for (let i = 0; i < 3; i++) pacing.observe(list(A), ok(100));
    let running = 0;
    let peak = 0;
    const work = () =>
      pacing.run(A, async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 2));
        running -= 1;
      });
    await Promise.all(Array.from({ length: 12 }, work));
    expect(peak).toBe(3);
  });

  it('pauses a project for a long Retry-After without a known refill, only that project', () => {
    const { pacing, clock } = paced();
    pacing.observe(list(A), throttled(1000));
    expect(pacing.paused(A)).toBe(false);
    pacing.observe(list(A), throttled(12_000));
    expect([pacing.paused(A), pacing.paused(B)]).toEqual([true, false]);
    clock.now += 12_001;
    expect(pacing.paused(A)).toBe(false);
  });
});

describe('pacing: requests, per bucket', () => {
  it('without a shape, sends at once, and after a 429 holds every request of that bucket only', async () => {
    const { pacing, clock } = paced();
    expect(await send(pacing, list(A))).toBeUndefined();
    expect(clock.waits).toEqual([]);
    await send(pacing, list(A), throttled(3000));
    await send(pacing, create(A));
    await send(pacing, list(B));
    expect(clock.waits).toEqual([3000]); // A's create waited; B did not
  });

  it('with a published shape, spends the burst, then one token per refill interval', async () => {
    const { pacing, clock } = paced();
    pacing.publish({ capacity: 3, refillPerSecond: 5, scope: 'GROUP' });
    for (let i = 0; i < 3; i++) await send(pacing, list(A));
    expect(clock.waits).toEqual([]);
    // Reserved ahead: three requests queued now wait 200, 400 and 600 ms.
    await Promise.all([0, 1, 2].map(() => pacing.admit(list(A), { sendBy: undefined })));
    expect(clock.waits.map(Math.round)).toEqual([200, 400, 600]);
    // A second later the bucket has refilled five tokens, less the three reserved.
    clock.now += 1000;
    await Promise.all([0, 1].map(() => pacing.admit(list(A), { sendBy: undefined })));
    expect(clock.waits.length).toBe(3);
  });

  it("learns the bucket from a 429's parameters", async () => {
    const { pacing, clock } = paced();
    await send(pacing, list(A), throttled(12_000, { capacity: 10, refillPerSecond: 5 / 60 }));
    expect(pacing.usersFor(A)).toBe(2); // 10/2 whole users for the shape, halved for the 429
    await send(pacing, list(A));
    await send(pacing, list(A)); // the next token is 12 s after that one
    expect(clock.waits.map(Math.round)).toEqual([12_000, 24_000]);
  });

  it("believes Atlas's RateLimit-Remaining when it says fewer tokens are left (someone else spends too)", async () => {
    const { pacing, clock } = paced();
    pacing.publish({ capacity: 100, refillPerSecond: 10, scope: 'GROUP' });
    await send(pacing, list(A), ok(0, 100));
    await send(pacing, list(A));
    expect(Math.round(clock.waits[0] ?? 0)).toBe(100);
  });

  it('a read in a run with a deadline gives way when its create would not fit; a create waits', async () => {
    const { pacing, clock } = paced();
    pacing.publish({ capacity: 1, refillPerSecond: 0.1, scope: 'GROUP' });
    await send(pacing, list(A));
    const sendBy = clock.now + 30_000;
    // The next token is 10 s away, the create's 10 s later: 20 s, with a reserve of 15 s.
    expect(await pacing.admit(list(A), { sendBy, readReserveMs: 15_000 })).toEqual({
      refused: 'giveWay',
      waitMs: 10_000,
    });
    expect(await pacing.admit(create(A), { sendBy })).toBeUndefined();
    expect(clock.waits).toEqual([10_000]);
    // Past its sendBy, nothing is sent.
    expect(await pacing.admit(create(A), { sendBy: clock.now + 1_000 })).toMatchObject({
      refused: 'deadline',
    });
  });

  it('one bucket for every project when Atlas says the scope is not GROUP', async () => {
    const { pacing, clock } = paced();
    pacing.publish({ capacity: 1, refillPerSecond: 1, scope: 'ORGANIZATION' });
    await send(pacing, list(A));
    await send(pacing, list(B));
    expect(clock.waits).toEqual([1000]);
  });
});

describe('pacing: the published bucket', () => {
  it('reads capacity and refill from a /rateLimits endpoint set, or nothing from a partial one', () => {
    expect(
      publishedShape({
        capacity: { value: 10 },
        refillRate: { value: 5 },
        refillDurationSeconds: { value: 60 },
        scope: 'GROUP',
      }),
    ).toEqual({ capacity: 10, refillPerSecond: 5 / 60, scope: 'GROUP' });
    expect(publishedShape({ capacity: { value: 10 }, scope: 'GROUP' })).toBeUndefined();
    expect(publishedShape(undefined)).toBeUndefined();
  });
});
