import { describe, expect, it } from 'vitest';
import { AdaptiveConcurrency } from '../../../functions/adapters/atlas/pacing.js';

const ok = (remaining: number, limit = 100) => ({
  status: 200,
  limit,
  remaining,
  retryAfterMs: undefined,
});

describe('pacing: adaptive concurrency', () => {
  it('starts at 2 (or the maximum, if lower): a bucket may hold only a handful of tokens', () => {
    expect(new AdaptiveConcurrency(32).current).toBe(2);
    expect(new AdaptiveConcurrency(1).current).toBe(1);
  });

  it('adds one while more than a quarter of the bucket is left beyond the users in flight', () => {
    const pacing = new AdaptiveConcurrency(10);
    for (let i = 0; i < 12; i++) pacing.observe(ok(80));
    expect(pacing.current).toBe(10);
  });

  it('counts each user in flight as a token spent: holds, steps down, halves below a tenth', async () => {
    const pacing = new AdaptiveConcurrency(64);
    for (let i = 0; i < 18; i++) pacing.observe(ok(100));
    expect(pacing.current).toBe(20);
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const inFlight = Array.from({ length: 20 }, () => pacing.limit(() => gate));
    await new Promise((r) => setImmediate(r));

    pacing.observe(ok(40)); // 20 left beyond the 20 in flight: a fifth, hold
    expect(pacing.current).toBe(20);
    pacing.observe(ok(15)); // fewer tokens than users in flight: one fewer
    expect(pacing.current).toBe(19);
    pacing.observe(ok(5)); // under a tenth of the bucket: half
    expect(pacing.current).toBe(9);
    release();
    await Promise.all(inFlight);
  });

  it('halves on a 429, never below one', () => {
    const pacing = new AdaptiveConcurrency(32);
    for (let i = 0; i < 6; i++) pacing.observe(ok(100));
    pacing.observe({ status: 429, limit: undefined, remaining: undefined, retryAfterMs: 1000 });
    expect(pacing.current).toBe(4);
    for (let i = 0; i < 5; i++)
      pacing.observe({ status: 429, limit: 10, remaining: 0, retryAfterMs: 1000 });
    expect(pacing.current).toBe(1);
  });

  it('pauses new work while a long Retry-After runs, not for a short one', () => {
    let now = 0;
    const pacing = new AdaptiveConcurrency(32, () => now);
    pacing.observe({ status: 429, limit: 10, remaining: 0, retryAfterMs: 1000 });
    expect(pacing.paused).toBe(false);
    pacing.observe({ status: 429, limit: 10, remaining: 0, retryAfterMs: 12_000 });
    expect(pacing.paused).toBe(true);
    now = 12_001;
    expect(pacing.paused).toBe(false);
  });

  it('ignores responses without rate-limit headers', () => {
    const pacing = new AdaptiveConcurrency(32);
    pacing.observe({
      status: 200,
      limit: undefined,
      remaining: undefined,
      retryAfterMs: undefined,
    });
    expect(pacing.current).toBe(2);
  });

  it('really bounds the work in flight', async () => {
    const pacing = new AdaptiveConcurrency(3);
    for (let i = 0; i < 3; i++) pacing.observe(ok(100));
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 12 }, () =>
        pacing.limit(async () => {
          running += 1;
          peak = Math.max(peak, running);
          await new Promise((r) => setTimeout(r, 5));
          running -= 1;
        }),
      ),
    );
    expect(peak).toBe(3);
  });
});
