import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { LeaseTable } from '../../functions/adapters/aws/lease-table.js';
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
    now += 61_000;
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
});
