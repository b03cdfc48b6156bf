import { randomBytes } from 'node:crypto';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  PutSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serializeStored, versionIdFor } from '../../functions/domain/stored-value.js';
import { awsProxy } from '../../tools/aws/fault-proxy.js';
import { createLeaseTable, readSecret, sm } from '../../tools/aws/seed.js';
import { Harness, P1, rowOf } from '../support/harness.js';
import { recordFaultRows } from './fault-table.js';

// Secrets Manager faults (through the fault proxy) and secrets in states the rotator did not
// leave them in: the minted key is never lost, a secret that is not ours is never overwritten.

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
  awsProxy().clear();
});
recordFaultRows(() => h);
afterEach(async () => h.close());

const only = (...users: string[]) => h.config({ projects: [{ projectId: P1, users }] });
const posts = () => h.sim.count('POST', '/certs');
const keepsPrevious = async (username: string, serialNumber: string) => {
  const secret = await readSecret(h.secretName(P1, username));
  expect(secret.current.serialNumber).toBe(serialNumber);
};

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
});

describe('checks before minting', () => {
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
    // A run the slow one's locks do not see (another deployment's table, or a lock that lapsed):
    // within one table the run lock keeps them apart, so here only the check before minting is left.
    const elsewhere = `locks-${randomBytes(5).toString('hex')}`;
    await createLeaseTable(elsewhere);
    const fast = rowOf(await h.run({ ...only('app1'), locks: { tableName: elsewhere } }), 'app1');
    expect(fast.action).toBe('rotated');

    const late = rowOf(await slow, 'app1');
    expect(late).toMatchObject({ action: 'skipped', serialNumber: fast.serialNumber });
    expect(late.reason).toMatch(/^the secret turned out to hold a certificate \(another run/);
    expect(posts()).toBe(1);
    expect((await readSecret(h.secretName(P1, 'app1'))).current.serialNumber).toBe(
      fast.serialNumber,
    );
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
});

describe('Secrets Manager faults (through the fault proxy)', () => {
  it('throttling and 500s are ridden out by the SDK; exactly one version is written', async () => {
    await h.seedDue(P1, 'app1');
    awsProxy().inject({ operation: 'PutSecretValue', errorType: 'ThrottlingException', times: 2 });
    awsProxy().inject({
      operation: 'DescribeSecret',
      status: 500,
      errorType: 'InternalServiceError',
      times: 2,
    });
    awsProxy().inject({
      operation: 'GetSecretValue',
      status: 500,
      errorType: 'InternalServiceError',
      times: 1,
    });
    const r = rowOf(await h.run(only('app1')), 'app1');
    expect(r.action).toBe('rotated');
    expect(awsProxy().count('PutSecretValue')).toBe(1);
    expect(awsProxy().injected.get('PutSecretValue')).toBe(2);
  });

  it('a burst of six throttled writes in a row does not lose the minted key', async () => {
    // Secrets Manager allows 50 writes a second per region: a large run can be throttled for a
    // while, and the only copy of the key is in memory until the write lands.
    await h.seedDue(P1, 'app1');
    awsProxy().inject({ operation: 'PutSecretValue', errorType: 'ThrottlingException', times: 6 });
    const r = rowOf(await h.run(only('app1')), 'app1');
    expect(r).toMatchObject({ action: 'rotated', orphans: [] });
    expect(awsProxy().injected.get('PutSecretValue')).toBe(6);
    expect((await readSecret(h.secretName(P1, 'app1'))).current.serialNumber).toBe(r.serialNumber);
  }, 60_000); // throttling retries back off from 500 ms, doubling, with full jitter

  it('KMS refusing the write: the user fails naming KMS, the orphan is reported, the previous stays current', async () => {
    const old = await h.seedDue(P1, 'app1');
    awsProxy().inject({
      operation: 'PutSecretValue',
      errorType: 'EncryptionFailure',
      message: 'KMS denied',
      times: Number.POSITIVE_INFINITY,
    });
    const r = rowOf(await h.run(only('app1')), 'app1');
    expect(r).toMatchObject({ action: 'failed', errorCode: 'KMS_ACCESS_DENIED' });
    expect(r.orphans).toHaveLength(1);
    await keepsPrevious('app1', old.serialNumber);
  });

  it('failure to promote after the pending version was stored: the next run resumes without minting', async () => {
    const old = await h.seedDue(P1, 'app1');
    awsProxy().inject({
      operation: 'UpdateSecretVersionStage',
      status: 500,
      errorType: 'InternalServiceError',
      times: Number.POSITIVE_INFINITY,
    });
    const first = rowOf(await h.run(only('app1')), 'app1');
    expect(first).toMatchObject({
      action: 'failed',
      errorCode: 'SECRET_STORE_FAILED',
      serialNumber: old.serialNumber,
    });
    awsProxy().clear();
    const second = rowOf(await h.run(only('app1')), 'app1');
    expect(second.action).toBe('resumed');
    expect(h.sim.stats.certificatesMinted).toBe(1);
    const secret = await readSecret(h.secretName(P1, 'app1'));
    expect(secret.stages[versionIdFor(second.serialNumber as string)]).toEqual(['AWSCURRENT']);
  });

  it('Secrets Manager access denied on read: the user fails before any mint', async () => {
    await h.seedDue(P1, 'app1');
    awsProxy().inject({
      operation: 'DescribeSecret',
      errorType: 'AccessDeniedException',
      times: Number.POSITIVE_INFINITY,
    });
    expect(rowOf(await h.run(only('app1')), 'app1')).toMatchObject({
      action: 'failed',
      errorCode: 'SECRET_ACCESS_DENIED',
    });
    expect(posts()).toBe(0);
    void DescribeSecretCommand;
    void sm;
  });
});
