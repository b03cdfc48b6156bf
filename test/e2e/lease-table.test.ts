import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLOCK_SKEW_BOUND_MS, LeaseTable } from '../../functions/adapters/aws/lease-table.js';
import { createLeaseTable, ddb } from '../../tools/aws/seed.js';

// The real adapter on moto_server: the conditional writes are the contract.
describe('lease table (DynamoDB on moto_server)', () => {
  const tableName = `locks-${randomBytes(5).toString('hex')}`;
  let now = Date.parse('2026-12-01T00:00:00Z');
  const table = (owner: string) =>
    new LeaseTable(ddb(), { tableName, leaseMs: 60_000, owner, now: () => new Date(now) });
  beforeAll(() => createLeaseTable(tableName));

  it('re-taking our own lease succeeds (a PutItem retried after it committed)', async () => {
    const run = table('run-a');
    const until = new Date(now + 60_000);
    expect(await run.acquire('lease/p/u1')).toEqual({ acquired: true, expiresAt: until });
    expect(await run.acquire('lease/p/u1')).toEqual({ acquired: true, expiresAt: until });
  });

  it('another run is refused while the lease is live, and gets it once it has lapsed', async () => {
    expect(await table('run-a').acquire('lease/p/u2')).toMatchObject({ acquired: true });
    expect(await table('run-b').acquire('lease/p/u2')).toMatchObject({
      acquired: false,
      owner: 'run-a',
    });
    // #25.7: lapsed for others only CLOCK_SKEW_BOUND_MS after the holder's own expiry (on main,
    // 61 s sufficed: the acquirer's clock alone decided).
    now += 61_000;
    expect(await table('run-b').acquire('lease/p/u2')).toMatchObject({ acquired: false });
    now += CLOCK_SKEW_BOUND_MS;
    expect(await table('run-b').acquire('lease/p/u2')).toEqual({
      acquired: true,
      expiresAt: new Date(now + 60_000),
    });
    // run-a's lease lapsed and run-b holds it now: run-a's release leaves it alone.
    await table('run-a').release('lease/p/u2');
    expect(await table('run-c').acquire('lease/p/u2')).toMatchObject({
      acquired: false,
      owner: 'run-b',
    });
  });

  // #25.7: on main a host whose clock ran more than the lease ahead took a live lease: the
  // condition compared the holder's expiry with the acquirer's clock.
  it('two hosts whose clocks are minutes apart never hold one lease at once', async () => {
    const real = Date.parse('2026-12-01T06:00:00Z');
    for (const skewMs of [2 * 60_000, 5 * 60_000, 9 * 60_000]) {
      const key = `lease/p/skew-${skewMs}`;
      let t = real;
      const host = (owner: string, offset: number) =>
        new LeaseTable(ddb(), {
          tableName,
          leaseMs: 60_000,
          owner,
          now: () => new Date(t + offset),
        });
      const slow = host('slow-host', 0);
      const fast = host('fast-host', skewMs);
      expect(await slow.acquire(key)).toMatchObject({ acquired: true });
      // Every second of the slow host's lease, as the fast host sees it: never free.
      for (let s = 0; s <= 60; s += 5) {
        t = real + s * 1000;
        expect(await fast.acquire(key)).toMatchObject({ acquired: false, owner: 'slow-host' });
      }
      // The slow holder re-takes its own lease whenever it likes (its renewals).
      expect(await slow.acquire(key)).toMatchObject({ acquired: true });
      // Once its holder is gone, it lapses for the fast host after the bound, measured on the
      // holder's expiry: its refusals said when.
      const refusal = await fast.acquire(key);
      expect(refusal).toMatchObject({ acquired: false });
      if (refusal.acquired) throw new Error('unreachable');
      t = refusal.expiresAt.getTime() - skewMs + 1;
      expect(await fast.acquire(key)).toMatchObject({ acquired: true });
      expect(await slow.acquire(key)).toMatchObject({ acquired: false, owner: 'fast-host' });
    }
  });

  it('a host whose clock is behind waits longer, never shorter', async () => {
    const key = 'lease/p/behind';
    let t = Date.parse('2026-12-01T07:00:00Z');
    const a = new LeaseTable(ddb(), {
      tableName,
      leaseMs: 60_000,
      owner: 'a',
      now: () => new Date(t),
    });
    const behind = new LeaseTable(ddb(), {
      tableName,
      leaseMs: 60_000,
      owner: 'behind',
      now: () => new Date(t - 5 * 60_000),
    });
    expect(await a.acquire(key)).toMatchObject({ acquired: true });
    t += 60_000 + CLOCK_SKEW_BOUND_MS + 1;
    expect(await behind.acquire(key)).toMatchObject({ acquired: false });
    t += 5 * 60_000;
    expect(await behind.acquire(key)).toMatchObject({ acquired: true });
  });
});
