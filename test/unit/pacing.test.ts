import { describe, expect, it } from 'vitest';
import { AdaptiveConcurrency } from '../../functions/pacing.js';

const ok = (remaining: number, limit = 100) => ({
  status: 200,
  limit,
  remaining,
  retryAfterMs: undefined,
});

describe('pacing: adaptive concurrency', () => {
  it('starts at 8 (or the maximum, if lower)', () => {
    expect(new AdaptiveConcurrency(32).current).toBe(8);
    expect(new AdaptiveConcurrency(2).current).toBe(2);
  });

  it('adds one while more than a quarter of the bucket is left, up to the maximum', () => {
    const pacing = new AdaptiveConcurrency(10);
    for (let i = 0; i < 5; i++) pacing.observe(ok(80));
    expect(pacing.current).toBe(10);
  });

  it('holds between a tenth and a quarter, and halves below a tenth', () => {
    const pacing = new AdaptiveConcurrency(32);
    pacing.observe(ok(20));
    expect(pacing.current).toBe(8);
    pacing.observe(ok(5));
    expect(pacing.current).toBe(4);
  });

  it('halves on a 429, never below one', () => {
    const pacing = new AdaptiveConcurrency(32);
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
    expect(pacing.current).toBe(8);
  });

  it('really bounds the work in flight', async () => {
    const pacing = new AdaptiveConcurrency(3);
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
