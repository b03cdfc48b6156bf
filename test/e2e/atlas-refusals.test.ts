import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../../functions/domain/report.js';
import { secretExists } from '../../tools/aws/seed.js';
import { Harness, P1, P2, rowOf } from '../support/harness.js';

/**
 * What Atlas refuses, found before anything is created: the simulator refuses creates for
 * users that are not MANAGED and under a customer CA with Atlas's error codes, and moto tells
 * whether a secret was left behind.
 */

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
});
afterEach(async () => h.close());

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const userLists = () =>
  h.sim.requests.filter((r) => r.method === 'GET' && r.path.endsWith('/databaseUsers')).length;
const securityReads = () => h.sim.count('GET', '/userSecurity');
const posts = () => h.sim.count('POST', '/certs');

/** P1: MANAGED, NONE (a SCRAM user) and CUSTOMER users; P2: a MANAGED user under a customer CA. */
const mixed = () => {
  h.sim.addUser(P1, 'managed');
  h.sim.addUser(P1, 'scram', { x509Type: 'NONE', databaseName: 'admin' });
  h.sim.addUser(P1, 'customer', { x509Type: 'CUSTOMER' });
  h.sim.addUser(P2, 'etl');
  h.sim.setCustomerCa(P2, CA);
  return h.config({
    projects: [
      { projectId: P1, users: ['managed', 'scram', 'customer'] },
      { projectId: P2, users: ['etl'] },
    ],
  });
};
const refused = [
  ['scram', P1],
  ['customer', P1],
  ['etl', P2],
] as const;

describe('Atlas refusals, predicted', () => {
  it('a dry run (the CLI) says which users would fail and why, creating nothing', async () => {
    const config = await h.writeConfig(mixed());
    const result = await h.cli(['--config', config, '--dry-run', '--json']);
    // A user the real run would fail fails the plan: a pre-flight in CI stops here.
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as RunReport;
    expect(report.users.map((u) => [u.username, u.action, u.errorCode])).toEqual([
      ['managed', 'planned', undefined],
      ['scram', 'failed', 'USER_NOT_MANAGED_X509'],
      ['customer', 'failed', 'USER_NOT_MANAGED_X509'],
      ['etl', 'failed', 'CANNOT_GENERATE_CERT_IF_ADVANCED_X509'],
    ]);
    expect(rowOf(report, 'scram').reason).toMatch(
      /^would fail: USER_NOT_MANAGED_X509: .*x509Type is NONE on admin/,
    );
    expect(rowOf(report, 'etl').reason).toMatch(
      /^would fail: CANNOT_GENERATE_CERT_IF_ADVANCED_X509: .*customer CA/,
    );
    expect(posts()).toBe(0);
    for (const [username, projectId] of [['managed', P1], ...refused]) {
      expect(await secretExists(h.secretName(projectId, username))).toBe(false);
    }
    // One user list and one userSecurity read per project; P1's refused users need no more.
    expect([userLists(), securityReads()]).toEqual([2, 2]);
  });

  it('a real run fails them before creating a secret or a certificate, and rotates the rest', async () => {
    const report = await h.run(mixed());
    expect(rowOf(report, 'managed').action).toBe('rotated');
    for (const [username, projectId] of refused) {
      const row = rowOf(report, username);
      expect(row.action).toBe('failed');
      expect(row.reason).toMatch(/^not minting: Atlas refuses managed certificates/);
      expect(await secretExists(h.secretName(projectId, username))).toBe(false);
    }
    expect(rowOf(report, 'etl').remedy).toMatch(/customer CA/);
    expect(posts()).toBe(1);
  });

  it('a first mint Atlas refuses anyway leaves no secret, and the name is free at once', async () => {
    h.sim.addUser(P1, 'app1');
    h.sim.setCustomerCa(P1, CA);
    // A credential without Project Owner may not read userSecurity: the check cannot tell.
    h.sim.injectFault({
      method: 'GET',
      path: '/userSecurity',
      times: Number.POSITIVE_INFINITY,
      action: { type: 'error', status: 401, errorCode: 'USER_UNAUTHORIZED' },
    });
    const config = h.config({ projects: [{ projectId: P1, users: ['app1'] }] });

    const first = rowOf(await h.run(config), 'app1');
    expect(first).toMatchObject({
      action: 'failed',
      errorCode: 'CANNOT_GENERATE_CERT_IF_ADVANCED_X509',
      secretArn: undefined,
    });
    expect(posts()).toBe(1);
    expect(await secretExists(h.secretName(P1, 'app1'))).toBe(false);

    // Once the CA is gone the next run creates the secret again: no recovery window held it.
    h.sim.setCustomerCa(P1, undefined);
    expect(rowOf(await h.run(config), 'app1').action).toBe('rotated');
  });

  it('costs no extra request on a day nobody is due', async () => {
    h.sim.addUser(P1, 'app1');
    await h.seed(P1, 'app1');
    h.sim.resetRequests();
    const report = await h.run(h.config({ projects: [{ projectId: P1, users: ['app1'] }] }));
    expect(rowOf(report, 'app1').action).toBe('skipped');
    expect([userLists(), securityReads()]).toEqual([0, 0]);
    // The user's list, and the run's one read of the published rate limit.
    const atlas = h.sim.requests.filter((r) => r.path.startsWith('/api/atlas/'));
    expect(atlas.map((r) => r.path.split('/').pop())).toEqual(['rateLimits', 'certs']);
  });
});
