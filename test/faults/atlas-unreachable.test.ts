import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../../functions/domain/report.js';
import { freePort } from '../../tools/aws/moto.js';
import { Harness, P1 } from '../support/harness.js';

/**
 * #24.6: an Atlas that cannot be reached (nothing listens on the port, a name that does not
 * resolve) ends the CLI's run within seconds, naming host:port and the cause code, and every
 * user keeps a row: the configured ones and those the last successful discovery found. Before:
 * 33–35 s, then "Atlas POST /api/oauth/token unavailable: no token after 5 attempts".
 */

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
});
afterEach(async () => h.close());

const runAgainst = async (baseUrl: string) => {
  const config = await h.writeConfig({
    ...h.config({ projects: [{ projectId: P1, users: ['app1'], discover: true }] }),
    atlas: { baseUrl },
  });
  const started = Date.now();
  const result = await h.cli(['--config', config, '--json']);
  const seconds = (Date.now() - started) / 1000;
  return { result, seconds, report: JSON.parse(result.stdout) as RunReport };
};

describe('CLI: an unreachable Atlas', () => {
  it('a closed port: fails in seconds naming 127.0.0.1:<port> and ECONNREFUSED; discovered users keep their rows', async () => {
    // A first run finds and rotates the discovered user.
    h.sim.addUser(P1, 'app1');
    h.sim.addUser(P1, 'found');
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'], discover: true }] }),
    );
    expect((await h.cli(['--config', config, '--json'])).code).toBe(0);

    const port = await freePort();
    const { result, seconds, report } = await runAgainst(`http://127.0.0.1:${port}`);

    expect(result.code).toBe(1);
    expect(seconds).toBeLessThan(5);
    expect(report.error).toMatchObject({
      code: 'ATLAS_UNREACHABLE',
      message: expect.stringContaining(
        `Atlas at 127.0.0.1:${port} is unreachable: ECONNREFUSED (connection refused)`,
      ),
    });
    expect(report.users.map((u) => [u.username, u.action, u.errorCode])).toEqual([
      ['app1', 'failed', 'ATLAS_UNREACHABLE'],
      ['found', 'failed', 'ATLAS_UNREACHABLE'],
    ]);
  });

  it('an unresolvable host: fails in seconds naming atlas.invalid:443 and ENOTFOUND', async () => {
    const { result, seconds, report } = await runAgainst('https://atlas.invalid');
    expect(result.code).toBe(1);
    expect(seconds).toBeLessThan(5);
    expect(report.error?.message).toMatch(
      /^Atlas at atlas\.invalid:443 is unreachable: ENOTFOUND \(host name not found\)/,
    );
    expect(report.users.map((u) => [u.username, u.action])).toEqual([['app1', 'failed']]);
  });
});
