import { DeleteTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CLOCK_SKEW_BOUND_MS } from '../../functions/adapters/aws/lease-table.js';
import type { RunReport } from '../../functions/domain/report.js';
import { leaseKey } from '../../functions/domain/rotation/index.js';
import { awsProxy } from '../../tools/aws/fault-proxy.js';
import { ddb } from '../../tools/aws/seed.js';
import { Harness, P1, rowOf } from '../support/harness.js';
import { recordFaultRows } from './fault-table.js';

// The lease table (DynamoDB) and runs that overlap: at most one certificate per user.

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
  awsProxy().clear();
});
recordFaultRows(() => h);
afterEach(async () => h.close());

const only = (...users: string[]) => h.config({ projects: [{ projectId: P1, users }] });
const posts = () => h.sim.count('POST', '/certs');

describe('checks before minting', () => {
  it('skips a user another run holds the lease for, and rotates once that lease has lapsed', async () => {
    await h.seedDue(P1, 'app1');
    const putLease = (expiresAt: number) =>
      ddb().send(
        new PutItemCommand({
          TableName: h.tableName,
          Item: {
            pk: { S: leaseKey(P1, 'app1') },
            owner: { S: 'other-run' },
            expiresAt: { N: String(expiresAt) },
          },
        }),
      );
    await putLease(Date.now() + 600_000);
    const held = rowOf(await h.run(only('app1')), 'app1');
    expect(held.action).toBe('skipped');
    expect(held.reason).toMatch(/^another run holds the lease \(other-run, until /);
    expect(posts()).toBe(0);

    // #25.7: a lease lapses for another run only CLOCK_SKEW_BOUND_MS after its holder's expiry.
    await putLease(Date.now() - 1);
    expect(rowOf(await h.run(only('app1')), 'app1').action).toBe('skipped');
    await putLease(Date.now() - CLOCK_SKEW_BOUND_MS - 1);
    expect(rowOf(await h.run(only('app1')), 'app1').action).toBe('rotated');
  });

  it('stops the run clearly when the lease table is missing, before minting', async () => {
    await h.seedDue(P1, 'app1');
    await ddb().send(new DeleteTableCommand({ TableName: h.tableName }));
    const report = await h.run(only('app1'));
    expect(report.error).toMatchObject({ code: 'LEASE_TABLE_MISSING' });
    expect(report.error?.remedy).toContain(`aws dynamodb create-table --table-name ${h.tableName}`);
    expect(rowOf(report, 'app1')).toMatchObject({
      action: 'failed',
      errorCode: 'LEASE_TABLE_MISSING',
    });
    expect(posts()).toBe(0);
  });
});

describe('concurrency', () => {
  it('two runs started at once mint at most one certificate per user', async () => {
    const users = ['u1', 'u2', 'u3', 'u4'];
    for (const u of users) h.sim.addUser(P1, u);
    const config = h.config({ projects: [{ projectId: P1, users }] });
    const [a, b] = await Promise.all([h.run(config), h.run(config)]);
    const rows = [...a.users, ...b.users];
    for (const u of users) {
      expect(rows.filter((r) => r.username === u && r.action === 'rotated')).toHaveLength(1);
    }
    expect(h.sim.stats.certificatesMinted).toBe(users.length);
    // #25.7: every writing run holds the run lock, so one of them wrote and the other was
    // refused, naming the holder: one pace against Secrets Manager's per-account quota.
    const refused = [a, b].filter((r) => r.lockedOut);
    expect(refused).toHaveLength(1);
    for (const r of refused) {
      expect(r.users).toEqual([]);
      expect(r.notRun).toMatch(/^another run \(.+\) holds the run lock until /);
    }
  });

  it('the CLI and the Lambda handler started at once mint at most one certificate per user', async () => {
    const users = ['u1', 'u2', 'u3'];
    for (const u of users) h.sim.addUser(P1, u);
    const configPath = await h.writeConfig(h.config({ projects: [{ projectId: P1, users }] }));
    vi.stubEnv('ROTATOR_CONFIG_PATH', configPath);
    for (const [k, v] of Object.entries(h.atlasEnv)) vi.stubEnv(k, v);
    try {
      const { handler } = await import('../../functions/rotate/handler.js');
      const context = { awsRequestId: 'req-c', getRemainingTimeInMillis: () => 300_000 } as Context;
      const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true); // EMF lines
      const [cli, lambda] = await Promise.all([
        h.cli(['--config', configPath, '--json']),
        handler({}, context),
      ]).finally(() => write.mockRestore());
      h.reports.push(lambda);
      const rows = [...(JSON.parse(cli.stdout) as RunReport).users, ...lambda.users];
      for (const u of users)
        expect(rows.filter((r) => r.username === u && r.action === 'rotated')).toHaveLength(1);
      expect(h.sim.stats.certificatesMinted).toBe(users.length);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
