import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { awsProxy } from '../../tools/aws/fault-proxy.js';
import { Harness, P1, P2, rowOf } from '../support/harness.js';
import { recordFaultRows } from './fault-table.js';

// Config and requests: bad input stops before any call; a config that cannot work fails its users.

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
  awsProxy().clear();
});
recordFaultRows(() => h);
afterEach(async () => h.close());

const posts = () => h.sim.count('POST', '/certs');

describe('errors stop at their real scope', () => {
  it('fails both users that would share one secret name', async () => {
    h.sim.addUser(P2, 'x');
    h.sim.addUser(P1, 'a');
    const config = h.config({
      projects: [
        { projectId: P1, users: [{ username: 'a', secretName: `${P2}/x` }] },
        { projectId: P2, discover: true },
      ],
    });
    const report = await h.run(config);
    expect(report.users.map((u) => [u.username, u.action, u.errorCode])).toEqual([
      ['a', 'failed', 'SECRET_NAME_COLLISION'],
      ['x', 'failed', 'SECRET_NAME_COLLISION'],
    ]);
    expect(posts()).toBe(0);
  });
});

describe('paused users', () => {
  it('reports a disabled user without touching it', async () => {
    await h.seedDue(P1, 'app1');
    const config = h.config({
      projects: [{ projectId: P1, users: [{ username: 'app1', enabled: false }] }],
    });
    expect(rowOf(await h.run(config), 'app1')).toMatchObject({
      action: 'skipped',
      reason: 'disabled in config (enabled: false)',
    });
    expect(h.sim.requests.filter((r) => r.path.includes('/certs'))).toHaveLength(0);
  });
});

describe('bad input', () => {
  it('a bad config stops the CLI with exit 2 before any call', async () => {
    const path = await h.writeConfig({ projects: [{ projectId: P1, users: ['a', 'a'] }] });
    const result = await h.cli(['--config', path]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('projects[0].users[1]: user "a" is already listed');
    expect(h.sim.requests).toHaveLength(0);
  });

  it('a malformed manual payload is rejected by the handler before any call', async () => {
    const configPath = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['a'] }] }),
    );
    vi.stubEnv('ROTATOR_CONFIG_PATH', configPath);
    try {
      const { handler } = await import('../../functions/rotate/handler.js');
      const context = { awsRequestId: 'r', getRemainingTimeInMillis: () => 60_000 } as Context;
      await expect(handler({ force: true, only: [] }, context)).rejects.toThrow('only: Too small');
      expect(h.sim.requests).toHaveLength(0);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
