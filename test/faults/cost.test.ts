import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { awsProxy } from '../../tools/aws/fault-proxy.js';
import { Harness, P1, P2 } from '../support/harness.js';
import { recordFaultRows } from './fault-table.js';

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
});
recordFaultRows(() => h);
afterEach(async () => h.close());

const secretsManagerCalls = (): Record<string, number> =>
  Object.fromEntries(
    [...awsProxy().succeeded].filter(
      ([op]) => !['PutItem', 'DeleteItem', 'DescribeTable', 'PutEvents'].includes(op),
    ),
  );

describe('cost of a run', () => {
  it('steady state: one Atlas list per user and one ListSecrets page per 100 users, no secret value read', async () => {
    const users = Array.from({ length: 30 }, (_, i) => `user-${i}`);
    for (const u of users) {
      h.sim.addUser(P1, u);
      await h.seed(P1, u);
    }
    h.sim.addUser(P2, 'etl');
    await h.seed(P2, 'etl');
    awsProxy().clear();
    h.sim.resetRequests();

    const config = h.config({
      projects: [
        { projectId: P1, users },
        { projectId: P2, users: ['etl'] },
      ],
    });
    const report = await h.run(config);
    expect(report.summary).toMatchObject({ users: 31, skipped: 31 });
    expect(secretsManagerCalls()).toEqual({ ListSecrets: 1 });
    expect(h.sim.count('GET', '/certs')).toBe(31);
    // And, once per run, the certificate endpoints' published rate limit, which paces them.
    const atlas = h.sim.requests.filter((r) => r.path.includes('/api/atlas/'));
    expect(atlas.map((r) => r.path).filter((p) => !p.endsWith('/certs'))).toEqual([
      '/api/atlas/v2/rateLimits',
    ]);
    expect(atlas).toHaveLength(32);
  });

  it('a denied ListSecrets stops the run at once: no secret is read one by one', async () => {
    // The role the stack deploys has ListSecrets: denied, the identity is not that role, and
    // per-secret reads would fail user by user (docs/troubleshooting.md).
    h.sim.addUser(P1, 'app1');
    await h.seed(P1, 'app1');
    awsProxy().clear();
    awsProxy().inject({
      operation: 'ListSecrets',
      errorType: 'AccessDeniedException',
      times: Number.POSITIVE_INFINITY,
    });
    const report = await h.run(h.config({ projects: [{ projectId: P1, users: ['app1'] }] }));
    expect(report.error).toMatchObject({ code: 'SECRETS_ACCESS_DENIED' });
    expect(report.users[0]).toMatchObject({ action: 'failed', errorCode: 'SECRETS_ACCESS_DENIED' });
    expect(secretsManagerCalls()).toEqual({});
  });
});
