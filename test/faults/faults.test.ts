import { DeleteTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  PutSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leaseKey } from '../../functions/domain/rotation/index.js';
import { serializeStored, versionIdFor } from '../../functions/domain/stored-value.js';
import { awsProxy } from '../../tools/aws/fault-proxy.js';
import { ddb, readSecret, seedSecret, sm } from '../../tools/aws/seed.js';
import { daysFromNow, Harness, P1, P2, rowOf } from '../support/harness.js';
import { recordFaultRows } from './fault-table.js';

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
  awsProxy().clear();
});
recordFaultRows(() => h);
afterEach(async () => h.close());

const only = (...users: string[]) => h.config({ projects: [{ projectId: P1, users }] });
const posts = () => h.sim.count('POST', '/certs');

describe('crash safety', () => {
  it('finishes a rotation a crashed run left as AWSPENDING, without minting', async () => {
    const old = await h.seedDue(P1, 'app1');
    const pending = await h.sim.mintCertificate(P1, 'app1');
    const name = h.secretName(P1, 'app1');
    await sm().send(
      new PutSecretValueCommand({
        SecretId: name,
        ClientRequestToken: versionIdFor(pending.serialNumber),
        SecretString: serializeStored({ projectId: P1, username: 'app1' }, pending),
        VersionStages: ['AWSPENDING'],
      }),
    );
    awsProxy().resetCounts(); // the fault table counts the rotator's writes, not the setup's
    h.sim.resetRequests();

    const report = await h.run(only('app1'));
    expect(rowOf(report, 'app1')).toMatchObject({
      action: 'resumed',
      serialNumber: pending.serialNumber,
    });
    expect(posts()).toBe(0);
    const secret = await readSecret(name);
    expect(secret.current.serialNumber).toBe(pending.serialNumber);
    expect(secret.stages[versionIdFor(pending.serialNumber)]).toEqual(['AWSCURRENT']);
    expect(secret.stages[versionIdFor(old.serialNumber)]).toEqual(['AWSPREVIOUS']);
  });

  it('refuses, and never drops, a pending version another tool wrote; mints nothing', async () => {
    h.sim.addUser(P1, 'app1');
    const healthy = await h.seed(P1, 'app1');
    const name = h.secretName(P1, 'app1');
    const theirs = '11111111-2222-4333-8444-555555555555';
    await sm().send(
      new PutSecretValueCommand({
        SecretId: name,
        ClientRequestToken: theirs,
        SecretString: '{"not":"ours"}',
        VersionStages: ['AWSPENDING'],
      }),
    );
    awsProxy().resetCounts(); // the fault table counts the rotator's writes, not the setup's
    const report = await h.run(only('app1'));
    expect(rowOf(report, 'app1')).toMatchObject({
      action: 'failed',
      errorCode: 'FOREIGN_PENDING_VERSION',
      serialNumber: healthy.serialNumber,
    });
    expect(rowOf(report, 'app1').remedy).toContain(`--remove-from-version-id ${theirs}`);
    expect(posts()).toBe(0);
    const secret = await readSecret(name);
    expect(secret.stages[theirs]).toContain('AWSPENDING');
    expect(awsProxy().count('UpdateSecretVersionStage')).toBe(0);
  });

  it('after a create whose response was lost, lists again, reports the orphan and still ends with a stored certificate', async () => {
    await h.seedDue(P1, 'app1');
    h.sim.injectFault({ method: 'POST', path: '/certs', action: { type: 'resetAfterProcessing' } });

    const report = await h.run(only('app1'));
    const r = rowOf(report, 'app1');
    expect(r.action).toBe('rotated');
    expect(posts()).toBe(2);
    const minted = h.sim.certificates(P1, 'app1').map((c) => c.serialNumber);
    expect(r.orphans).toHaveLength(1);
    expect(minted).toContain(r.orphans[0]);
    expect(r.orphans[0]).not.toBe(r.serialNumber);
    expect((await readSecret(h.secretName(P1, 'app1'))).current.serialNumber).toBe(r.serialNumber);
  });

  it('stops minting at the orphan limit when the fault recurs', async () => {
    await h.seedDue(P1, 'app1', 20);
    h.sim.injectFault({
      method: 'POST',
      path: '/certs',
      times: Number.POSITIVE_INFINITY,
      action: { type: 'resetAfterProcessing' },
    });

    const first = rowOf(await h.run(only('app1')), 'app1');
    expect(first).toMatchObject({ action: 'failed', errorCode: 'CREATE_OUTCOME_UNKNOWN' });
    expect(first.orphans).toHaveLength(2);
    expect(posts()).toBe(2);

    const second = rowOf(await h.run(only('app1')), 'app1');
    expect(second).toMatchObject({ action: 'failed', errorCode: 'ORPHAN_LIMIT' });
    expect(second.remedy).toMatch(/cannot be deleted/);
    expect(second.orphans).toEqual(first.orphans);
    expect(posts()).toBe(2);
  });

  it('refuses to mint for a user that already has two recent orphans', async () => {
    await h.seedDue(P1, 'app1', 20);
    // Minted after the secret was created, held by no version: keys lost.
    const lost = [await h.sim.mintCertificate(P1, 'app1'), await h.sim.mintCertificate(P1, 'app1')];
    const r = rowOf(await h.run(only('app1')), 'app1');
    expect(r).toMatchObject({ action: 'failed', errorCode: 'ORPHAN_LIMIT' });
    expect(r.orphans.sort()).toEqual(lost.map((c) => c.serialNumber).sort());
    expect(posts()).toBe(0);
  });

  it('does not park a user about to expire at the orphan limit, but stops at the mint cap', async () => {
    await h.seedDue(P1, 'app1');
    await h.sim.mintCertificate(P1, 'app1');
    await h.sim.mintCertificate(P1, 'app1');
    h.sim.injectFault({
      method: 'POST',
      path: '/certs',
      times: 2,
      action: { type: 'resetAfterProcessing' },
    });

    // Past the orphan limit the critical floor still creates once per run…
    const first = rowOf(await h.run(only('app1')), 'app1');
    expect(first).toMatchObject({ action: 'failed', errorCode: 'ORPHAN_LIMIT' });
    expect(posts()).toBe(1);
    const second = rowOf(await h.run(only('app1')), 'app1');
    expect(posts()).toBe(2);
    // …until Atlas lists four certificates created this week: the hard cap (default 4) stops
    // even a critical user, before any create.
    expect(second).toMatchObject({ action: 'failed', errorCode: 'MINT_CAP' });
    const third = rowOf(await h.run(only('app1')), 'app1');
    expect(third).toMatchObject({ action: 'failed', errorCode: 'MINT_CAP' });
    expect(third.orphans).toHaveLength(4);
    expect(posts()).toBe(2);
    // An operator who expects more raises the cap; the next run mints.
    const raised = { ...only('app1'), rotation: { maxMintsPerWindow: 6 } };
    const fourth = rowOf(await h.run(raised), 'app1');
    expect(fourth.action).toBe('rotated');
    expect(fourth.orphans).toHaveLength(4);
  });
});

describe('bad certificates are never made current', () => {
  it.each([
    'truncate',
    'dropKey',
    'wrongKey',
    'wrongCn',
    'shortValidity',
    'expired',
    'garbage',
  ] as const)(
    'rejects a %s create response, keeps the previous certificate and reports the orphan',
    async (mangle) => {
      const old = await h.seedDue(P1, 'app1');
      h.sim.injectFault({
        method: 'POST',
        path: '/certs',
        action: { type: 'mangleCreate', mangle },
      });
      const r = rowOf(await h.run(only('app1')), 'app1');
      expect(r).toMatchObject({
        action: 'failed',
        errorCode: 'CERTIFICATE_REJECTED',
        serialNumber: old.serialNumber,
      });
      expect(r.reason).not.toMatch(/MII|PRIVATE KEY-----/);
      const secret = await readSecret(h.secretName(P1, 'app1'));
      expect(secret.current.serialNumber).toBe(old.serialNumber);
      expect(Object.keys(secret.stages)).toEqual([versionIdFor(old.serialNumber)]);
      const unexpired = h.sim.certificates(P1, 'app1').filter((c) => c.notAfter > new Date());
      const fresh = unexpired.map((c) => c.serialNumber).filter((s) => s !== old.serialNumber);
      expect(r.orphans).toEqual(fresh);
    },
  );
});

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

    await putLease(Date.now() - 1);
    expect(rowOf(await h.run(only('app1')), 'app1').action).toBe('rotated');
  });

  it('does not mint for a new user whose secret another run filled after this run indexed it', async () => {
    h.sim.addUser(P1, 'app1');
    // The slow run indexes (no secret), then waits out a 429 on its list while a fast run
    // rotates the user from start to finish.
    h.sim.injectFault({
      method: 'GET',
      path: '/certs',
      action: { type: 'error', status: 429, errorCode: 'RATE_LIMITED', retryAfter: 2 },
    });
    const slow = h.run(only('app1'));
    while (h.sim.pendingFaults > 0) await new Promise((r) => setTimeout(r, 10));
    const fast = rowOf(await h.run(only('app1')), 'app1');
    expect(fast.action).toBe('rotated');

    const late = rowOf(await slow, 'app1');
    expect(late).toMatchObject({ action: 'skipped', serialNumber: fast.serialNumber });
    expect(late.reason).toMatch(/^the secret turned out to hold a certificate \(another run/);
    expect(posts()).toBe(1);
    expect((await readSecret(h.secretName(P1, 'app1'))).current.serialNumber).toBe(
      fast.serialNumber,
    );
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

  it('reports a secret whose value is not ours before any mint, and replaces it only when forced', async () => {
    h.sim.addUser(P1, 'app1');
    const name = h.secretName(P1, 'app1');
    await sm().send(
      new CreateSecretCommand({ Name: name, SecretString: '{"password":"hand-edited"}' }),
    );

    const r = rowOf(await h.run(only('app1')), 'app1');
    expect(r).toMatchObject({ action: 'failed', errorCode: 'SECRET_FOREIGN_VALUE' });
    expect(r.remedy).toContain(`--force --only ${P1}:app1`);
    expect(posts()).toBe(0);

    const forced = rowOf(
      await h.run(only('app1'), { force: true, only: [{ projectId: P1, username: 'app1' }] }),
      'app1',
    );
    expect(forced.action).toBe('rotated');
    expect((await readSecret(name)).current.serialNumber).toBe(forced.serialNumber);
  });

  it('fails a user whose secret is scheduled for deletion', async () => {
    await h.seedDue(P1, 'app1');
    await sm().send(
      new DeleteSecretCommand({ SecretId: h.secretName(P1, 'app1'), RecoveryWindowInDays: 7 }),
    );
    const r = rowOf(await h.run(only('app1')), 'app1');
    expect(r).toMatchObject({ action: 'failed', errorCode: 'SECRET_SCHEDULED_FOR_DELETION' });
    expect(r.remedy).toContain('restore-secret');
    expect(posts()).toBe(0);
  });

  it('reports a held certificate Atlas does not list instead of replacing it', async () => {
    h.sim.addUser(P1, 'app1');
    const elsewhere = await h.sim.mintCertificate(P2, 'app1', {
      notBefore: daysFromNow(-2),
      notAfter: daysFromNow(80),
    });
    await seedSecret(h.secretName(P1, 'app1'), { projectId: P1, username: 'app1' }, elsewhere);
    const r = rowOf(await h.run(only('app1')), 'app1');
    expect(r).toMatchObject({ action: 'failed', errorCode: 'HELD_CERTIFICATE_UNKNOWN_TO_ATLAS' });
    expect(posts()).toBe(0);
  });

  it('defers users when the run is out of time, most urgent first', async () => {
    h.sim.addUser(P1, 'none-yet');
    await h.seedDue(P1, 'soon');
    h.sim.addUser(P1, 'later');
    await h.seed(P1, 'later', { notBefore: daysFromNow(-80), notAfter: daysFromNow(10) });
    const config = h.config({
      projects: [{ projectId: P1, users: ['later', 'soon', 'none-yet'] }],
      rotation: { concurrency: 1 },
    });
    // Plenty of time until the first mint is done; then too little for another.
    const deadline = () => Date.now() + (posts() === 0 ? 600_000 : 10_000);

    const report = await h.run(config, {}, { deadline });
    expect(report.users.map((u) => [u.username, u.action])).toEqual([
      ['later', 'deferred'],
      ['soon', 'deferred'],
      ['none-yet', 'rotated'],
    ]);
    expect(rowOf(report, 'soon').reason).toMatch(/^out of time for this run/);
  });

  it('leaves a new certificate pending while Atlas does not list it, and promotes it next run', async () => {
    // The simulator's clock runs ahead once the seed is in, so only the new mint lags.
    await h.close();
    let ahead = 0;
    h = await Harness.start({ now: () => new Date(Date.now() + ahead) });
    const old = await h.seedDue(P1, 'app1');
    ahead = 120_000;
    h.sim.behaviour.listLagMs = 60_000;
    const tuning = { confirmAttempts: 2, confirmDelayMs: 10 };
    const first = rowOf(await h.run(only('app1'), {}, { tuning }), 'app1');
    expect(first).toMatchObject({
      action: 'failed',
      errorCode: 'NEW_CERTIFICATE_NOT_LISTED',
      serialNumber: old.serialNumber,
    });
    const pendingSerial = h.sim.certificates(P1, 'app1').at(-1)?.serialNumber as string;
    expect(
      (await readSecret(h.secretName(P1, 'app1'))).stages[versionIdFor(pendingSerial)],
    ).toEqual(['AWSPENDING']);

    h.sim.behaviour.listLagMs = 0;
    const second = rowOf(await h.run(only('app1'), {}, { tuning }), 'app1');
    expect(second).toMatchObject({ action: 'resumed', serialNumber: pendingSerial });
    expect(posts()).toBe(1);
  });
});

describe('errors stop at their real scope', () => {
  it('fails only the user Atlas refuses, naming the fix', async () => {
    h.sim.addUser(P1, 'scram', { x509Type: 'NONE', databaseName: 'admin' });
    h.sim.addUser(P1, 'ok');
    const report = await h.run(only('scram', 'ok'));
    expect(rowOf(report, 'scram')).toMatchObject({
      action: 'failed',
      errorCode: 'USER_NOT_MANAGED_X509',
    });
    expect(rowOf(report, 'scram').remedy).toMatch(/MANAGED/);
    expect(rowOf(report, 'ok').action).toBe('rotated');
  });

  it('fails every user of a project the credential cannot reach, once, and carries on elsewhere', async () => {
    const stranger = 'aaaaaaaaaaaaaaaaaaaaaaaa';
    h.sim.behaviour.unknownGroupResponse = 'NOT_IN_GROUP';
    h.sim.addUser(P1, 'ok');
    const config = h.config({
      projects: [
        { projectId: stranger, users: ['x1', 'x2', 'x3', 'x4', 'x5', 'x6'] },
        { projectId: P1, users: ['ok'] },
      ],
      rotation: { concurrency: 2 },
    });
    const report = await h.run(config);
    const failed = report.users.filter((u) => u.projectId === stranger);
    expect(failed).toHaveLength(6);
    for (const u of failed)
      expect(u).toMatchObject({ action: 'failed', errorCode: 'NOT_IN_GROUP' });
    expect(rowOf(report, 'ok').action).toBe('rotated');
    // At most the requests already in flight when the first failure arrived.
    expect(h.sim.requests.filter((r) => r.path.includes(stranger)).length).toBeLessThanOrEqual(2);
  });

  it('stops the whole run at once when Atlas rejects the credential, without a retry storm', async () => {
    for (const u of ['a', 'b', 'c']) h.sim.addUser(P1, u);
    const report = await h.run(
      only('a', 'b', 'c'),
      {},
      {
        env: { MONGODB_ATLAS_CLIENT_ID: h.clientId, MONGODB_ATLAS_CLIENT_SECRET: 'wrong' },
      },
    );
    expect(report.error?.code).toBe('ATLAS_CREDENTIALS_REJECTED');
    expect(report.users.map((u) => u.action)).toEqual(['failed', 'failed', 'failed']);
    expect(h.sim.count('POST', '/oauth/token')).toBe(1);
    expect(JSON.stringify(report)).not.toContain(h.clientSecret);
  });

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

  it('rides out a throttled list (429 with Retry-After)', async () => {
    h.sim.addUser(P1, 'app1');
    h.sim.injectFault({
      method: 'GET',
      path: '/certs',
      action: { type: 'error', status: 429, errorCode: 'RATE_LIMITED_TOKEN_BUCKET', retryAfter: 1 },
    });
    expect(rowOf(await h.run(only('app1')), 'app1').action).toBe('rotated');
    expect(h.sim.count('GET', '/certs')).toBeGreaterThanOrEqual(2);
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
