import { describe, expect, it } from 'vitest';
import type { CallSpec } from '../../../functions/adapters/atlas/call.js';
import { RateLimitPacing } from '../../../functions/adapters/atlas/pacing.js';
import { TokenBuckets } from '../../../tools/simulator/rate-limit.js';

/**
 * Steady state (#25.6), in virtual time: 1,000 healthy users in 10 projects, one list each, 55 ms
 * a list (the bench's recorded latency), 64 users in flight at most, against Atlas's bucket as
 * the simulator models it (capacity 100, refill 100/s, one for the account). Every request goes
 * through the pace as the transport sends it: admitted, answered with Atlas's headers (a 429 with
 * its parameters and Retry-After, then retried after it), settled. With `/rateLimits` served the
 * pace knows the bucket; refused or absent, it has only the headers.
 */

const LIST_MS = 55;

/** Virtual time: `sleep` queues a timer; `drive` runs the timers in order until the work ends. */
class VirtualTime {
  now = 1_000_000;
  private seq = 0;
  private readonly timers: { at: number; seq: number; resolve: () => void }[] = [];

  sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      this.timers.push({ at: this.now + Math.max(0, ms), seq: this.seq++, resolve });
    });

  async drive(work: Promise<unknown>): Promise<void> {
    let done = false;
    work.then(
      () => {
        done = true;
      },
      () => {
        done = true;
      },
    );
    for (;;) {
      await new Promise((r) => setImmediate(r));
      if (done) return;
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift();
      if (!next) throw new Error('stuck: nothing scheduled and the work is not done');
      this.now = Math.max(this.now, next.at);
      next.resolve();
    }
  }
}

const projectId = (i: number): string => `${'b0'.repeat(10)}${String(i).padStart(4, '0')}`;

/** A list's latency: the bench's, or (with a seed) drawn from 0.5× to 1.5× of it, as real ones vary. */
const latency = (seed: number): (() => number) => {
  if (seed === 0) return () => LIST_MS;
  let x = seed * 2654435761 + 1;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return LIST_MS * (0.5 + x / 2147483648);
  };
};

const steadyRun = async (
  rateLimits: 'served' | 'refused',
  scope: 'shared' | 'project' = 'shared',
  seed = 0,
) => {
  const time = new VirtualTime();
  const listMs = latency(seed);
  const atlas = new TokenBuckets({ capacity: 100, refillPerSecond: 100, scope }, () => time.now);
  const pacing = new RateLimitPacing({ maxUsers: 64, now: () => time.now, sleep: time.sleep });
  if (rateLimits === 'served') {
    pacing.publish({
      capacity: 100,
      refillPerSecond: 100,
      scope: scope === 'project' ? 'GROUP' : 'ORGANIZATION',
    });
  }
  const counts = { requests: 0, throttled: 0 };
  const list = async (groupId: string, username: string): Promise<void> => {
    const spec: CallSpec = {
      method: 'GET',
      path: `/api/atlas/v2/groups/${groupId}/databaseUsers/${username}/certs`,
      groupId,
      safety: 'safe',
    };
    for (;;) {
      const refused = await pacing.admit(spec, { sendBy: undefined, maxWaitMs: 120_000 });
      if (refused) throw new Error(`refused: ${refused.refused}`);
      let retryAfterMs: number | undefined;
      try {
        counts.requests += 1;
        const taken = atlas.take(spec.path);
        if (!taken) throw new Error('the bucket covers every request here');
        await time.sleep(listMs());
        if (taken.ok) {
          pacing.observe(spec, {
            status: 200,
            limit: taken.limit,
            remaining: taken.remaining,
            retryAfterMs: undefined,
          });
          return;
        }
        counts.throttled += 1;
        retryAfterMs = taken.retryAfterSeconds * 1000;
        // The simulator's 429: Retry-After, and the bucket in its parameters (per minute).
        pacing.observe(spec, {
          status: 429,
          limit: undefined,
          remaining: undefined,
          retryAfterMs,
          shape: { capacity: taken.limit, refillPerSecond: Math.round(100 * 60) / 60 },
        });
      } finally {
        pacing.settle(spec);
      }
      await time.sleep(retryAfterMs);
    }
  };
  const started = time.now;
  const users = Array.from({ length: 10 }, (_, p) =>
    Array.from({ length: 100 }, (_, i) => ({ groupId: projectId(p), username: `user-${p}-${i}` })),
  ).flat();
  // Round robin over the projects, as the engine orders equally urgent users.
  users.sort((a, b) => Number(a.username.split('-')[2]) - Number(b.username.split('-')[2]));
  const work = Promise.all(
    users.map((u) => pacing.run(u.groupId, () => list(u.groupId, u.username))),
  );
  await time.drive(work);
  await work;
  return {
    ...counts,
    perUser: counts.requests / users.length,
    seconds: (time.now - started) / 1000,
  };
};

describe('pacing: a steady run over one 100-token, 100/s bucket', () => {
  it.each([
    ['served', 'shared'],
    ['refused', 'shared'],
    ['served', 'project'],
    ['refused', 'project'],
  ] as const)(
    'with /rateLimits %s (a %s bucket): ≤ 1.01 requests a user, no 429, at the bucket’s pace',
    async (rateLimits, scope) => {
      const run = await steadyRun(rateLimits, scope);
      // The numbers, for the report: requests a user, 429s, virtual seconds.
      console.log(`steady ${rateLimits} ${scope}: ${JSON.stringify(run)}`);
      expect(run.throttled).toBe(0);
      expect(run.perUser).toBeLessThanOrEqual(1.01);
      // 1,000 lists against 100 tokens and 100/s: (1000 − 100) / 100 = 9 s at best; with a
      // bucket per project, a list's latency at 64 in flight (~0.9 s).
      expect(run.seconds).toBeLessThanOrEqual(scope === 'shared' ? 10 : 2);
    },
  );

  // Refused, latencies that vary: the headers show one bucket for every project while requests
  // of several projects are in flight. The one bucket used to start blank and send unchecked
  // until its first answer (26 to 36 429s with seeds 1, 8, 10 and 13); it now starts from what
  // the project's bucket learnt, with every request in flight.
  it.each([1, 8, 10, 13, 21])(
    'with /rateLimits refused and latencies that vary (seed %i): no 429 when the buckets become one',
    async (seed) => {
      const run = await steadyRun('refused', 'shared', seed);
      console.log(`steady refused shared, seed ${seed}: ${JSON.stringify(run)}`);
      expect(run.throttled).toBe(0);
      expect(run.perUser).toBeLessThanOrEqual(1.01);
      expect(run.seconds).toBeLessThanOrEqual(10);
    },
  );
});
