import {
  DeleteSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AtlasX509Client,
  type AtlasX509ClientOptions,
  CertificateBundleError,
  type RefreshFailure,
  type SwitchInfo,
} from '../../functions/consumer/index.js';
import { serializeStored, versionIdFor } from '../../functions/domain/stored-value.js';
import { type SeedCertificate, seedSecret } from '../../tools/aws/seed.js';
import { MongoStandIn } from '../../tools/simulator/mongo-standin.js';
import { Harness, P1, P2, rowOf } from '../support/harness.js';

/**
 * The shipped consumer (`atlas-x509-rotator/consumer`) as an application uses it: the real
 * `mongodb` driver logs in with MONGODB-X509 to the stand-in cluster node, which trusts only
 * project P1's Atlas CA and knows `app1`; the secret is in moto_server and the rotations are the
 * rotator's own runs against the Atlas simulator.
 */

let h: Harness;
let node: MongoStandIn;
const open: AtlasX509Client[] = [];
beforeEach(async () => {
  h = await Harness.start();
  node = await MongoStandIn.start({ clientCa: await h.sim.projectCaPem(P1), users: ['app1'] });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
  await node.close();
  await h.close();
});

const secretId = () => h.secretName(P1, 'app1');
const connect = async (extra: Partial<AtlasX509ClientOptions> = {}) => {
  const consumer = await AtlasX509Client.connect({
    secretId: secretId(),
    uri: node.uri,
    secrets: new SecretsManagerClient({}),
    refreshIntervalMs: 0,
    driverOptions: { serverSelectionTimeoutMS: 2_000, maxPoolSize: 4 },
    ...extra,
  });
  open.push(consumer);
  return consumer;
};
/** A new AWSCURRENT version, as the rotator's promotion leaves it. */
const putCurrent = async (value: string, serial: string) =>
  new SecretsManagerClient({}).send(
    new PutSecretValueCommand({
      SecretId: secretId(),
      ClientRequestToken: versionIdFor(serial),
      SecretString: value,
    }),
  );
const putCertificate = (cert: SeedCertificate) =>
  putCurrent(
    serializeStored(
      { projectId: P1, username: 'app1' },
      { ...cert, pem: cert.certificate + cert.privateKey },
    ),
    cert.serialNumber,
  );
const ping = (consumer: AtlasX509Client) => consumer.client.db('admin').command({ ping: 1 });

describe('AtlasX509Client against the stand-in, with the rotator rotating', () => {
  it('serves steady traffic through two rotations without a failed operation', async () => {
    const first = await h.seedDue(P1, 'app1', 5);
    const switches: SwitchInfo[] = [];
    const consumer = await connect({ onSwitch: (info) => switches.push(info) });
    expect(consumer.status).toMatchObject({ serialNumber: first.serialNumber, draining: 0 });

    // Eight workers, each a ping after the other, through `client` taken per operation.
    const counts = { ok: 0, failed: 0 };
    const errors: unknown[] = [];
    let running = true;
    const worker = async () => {
      while (running) {
        try {
          await ping(consumer);
          counts.ok += 1;
        } catch (err) {
          counts.failed += 1;
          errors.push(err);
          // One failure fails the test: no need for more (nor a tight loop of them).
          running = false;
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    const config = h.config({ projects: [{ projectId: P1, users: ['app1'] }] });
    const serials = [first.serialNumber];
    const loginsAfterSwitch: number[] = [];
    const loginsBeforeRefresh: number[] = [];
    const rotateTwice = async () => {
      for (const request of [{}, { force: true, only: [{ projectId: P1, username: 'app1' }] }]) {
        const report = await h.run(config, request);
        expect(rowOf(report, 'app1').action).toBe('rotated');
        const serial = String(rowOf(report, 'app1').serialNumber);
        loginsBeforeRefresh.push(node.logins.length);
        expect(await consumer.refresh()).toEqual({
          outcome: 'switched',
          serialNumber: serial,
          previousSerialNumber: serials.at(-1),
        });
        loginsAfterSwitch.push(node.logins.length);
        serials.push(serial);
        // Traffic goes on over the new certificate for a while.
        const okAtSwitch = counts.ok;
        while (running && counts.ok < okAtSwitch + 200) await new Promise((r) => setTimeout(r, 10));
      }
    };
    try {
      await rotateTwice();
    } finally {
      running = false;
      await Promise.all(workers);
    }

    // The old clients closed once their operations were done.
    await expect.poll(() => consumer.status.draining, { timeout: 5_000 }).toBe(0);

    expect(errors).toEqual([]);
    expect(counts.failed).toBe(0);
    expect(counts.ok).toBeGreaterThan(400);
    expect(switches.map((s) => s.serialNumber)).toEqual(serials.slice(1));
    expect(consumer.status.serialNumber).toBe(serials[2]);
    // The new client logged in with the new certificate before the switch; every connection
    // opened after it presented the new certificate too.
    expect(node.accepted).toEqual(expect.arrayContaining(serials));
    const [afterFirst = 0, afterSecond = 0] = loginsAfterSwitch;
    const beforeSecond = loginsBeforeRefresh[1] ?? 0;
    const loginsOf = (from: number, to: number) => node.logins.slice(from, to);
    expect(loginsOf(afterFirst, node.logins.length).every((l) => l.ok)).toBe(true);
    expect(new Set(loginsOf(afterFirst, beforeSecond).map((l) => l.serialNumber))).toEqual(
      new Set([serials[1]]),
    );
    expect(new Set(loginsOf(afterSecond, node.logins.length).map((l) => l.serialNumber))).toEqual(
      new Set([serials[2]]),
    );
    expect(node.pings).toBeGreaterThanOrEqual(counts.ok);
    // The numbers of this run, for the closing note.
    console.info(
      `consumer: ${counts.ok} pings, ${counts.failed} failed, through 2 rotations, ${node.logins.length} logins`,
    );
  }, 60_000);

  it('keeps the working client when the new certificate is refused, and reports why', async () => {
    const first = await h.seed(P1, 'app1');
    const failures: RefreshFailure[] = [];
    const consumer = await connect({ onRefreshFailed: (f) => failures.push(f) });

    // Signed by another project's CA: the cluster refuses it at the TLS handshake.
    const foreign = await h.sim.mintCertificate(P2, 'app1');
    await putCertificate(foreign);
    const result = await consumer.refresh();
    expect(result).toMatchObject({
      outcome: 'failed',
      reason: 'refused',
      serialNumber: foreign.serialNumber,
    });
    expect(failures).toHaveLength(1);
    expect(consumer.status).toMatchObject({
      serialNumber: first.serialNumber,
      lastFailure: { reason: 'refused', serialNumber: foreign.serialNumber },
    });
    await expect(ping(consumer)).resolves.toMatchObject({ ok: 1 });

    // A certificate the cluster accepts replaces it on the next refresh; the failure clears.
    const good = await h.sim.mintCertificate(P1, 'app1');
    await putCertificate(good);
    expect(await consumer.refresh()).toMatchObject({
      outcome: 'switched',
      serialNumber: good.serialNumber,
    });
    expect(consumer.status.lastFailure).toBeUndefined();
    await expect(ping(consumer)).resolves.toMatchObject({ ok: 1 });
    expect(node.accepted.at(-1)).toBe(good.serialNumber);
  });

  it('keeps the working client when the secret cannot be read or holds no bundle', async () => {
    const first = await h.seed(P1, 'app1');
    const consumer = await connect();

    await putCurrent(JSON.stringify({ username: 'app1', password: 'hunter2' }), '1');
    expect(await consumer.refresh()).toMatchObject({
      outcome: 'failed',
      reason: 'invalid-value',
      message: `secret ${secretId()}: certificate is missing`,
    });
    await expect(ping(consumer)).resolves.toMatchObject({ ok: 1 });

    await new SecretsManagerClient({}).send(
      new DeleteSecretCommand({ SecretId: secretId(), ForceDeleteWithoutRecovery: true }),
    );
    expect(await consumer.refresh()).toMatchObject({ outcome: 'failed', reason: 'unreadable' });
    expect(consumer.status.serialNumber).toBe(first.serialNumber);
    await expect(ping(consumer)).resolves.toMatchObject({ ok: 1 });
  });

  it('polls at the interval the application sets', async () => {
    const first = await h.seed(P1, 'app1');
    let onSwitch: (info: SwitchInfo) => void = () => {};
    const switched = new Promise<SwitchInfo>((resolve) => {
      onSwitch = resolve;
    });
    // Connected on the first certificate before the next exists: the switch can only come from
    // a poll (a slow connect must not read the new one first and leave nothing to switch to).
    const consumer = await connect({ refreshIntervalMs: 100, onSwitch });
    expect(consumer.status.serialNumber).toBe(first.serialNumber);
    const next = await h.sim.mintCertificate(P1, 'app1');
    await putCertificate(next);
    expect((await switched).serialNumber).toBe(next.serialNumber);
  });
});

describe('a value that is not a certificate bundle', () => {
  it('is refused at connect with the secret and the field named, and no key material', async () => {
    const cert = await h.sim.mintCertificate(P1, 'app1');
    const other = await h.sim.mintCertificate(P1, 'app1');
    const cases: [string, string, string][] = [
      [JSON.stringify({ password: 'x' }), 'certificate', 'is missing'],
      [`${cert.privateKey}`, 'SecretString', 'is not JSON'],
      ['[1]', 'SecretString', 'is not a JSON object'],
      [
        JSON.stringify({ certificate: cert.certificate, privateKey: other.privateKey }),
        'serialNumber',
        'is missing',
      ],
      [
        JSON.stringify({
          certificate: cert.certificate,
          privateKey: other.privateKey,
          serialNumber: cert.serialNumber,
          notAfter: cert.notAfter.toISOString(),
        }),
        'privateKey',
        'does not belong to the certificate',
      ],
      [
        JSON.stringify({
          certificate: 'not a pem',
          privateKey: cert.privateKey,
          serialNumber: cert.serialNumber,
          notAfter: cert.notAfter.toISOString(),
        }),
        'certificate',
        'is not a PEM certificate',
      ],
    ];
    for (const [index, [value, field, problem]] of cases.entries()) {
      const name = `${h.prefix}not-a-bundle-${index}`;
      await seedSecret(name, { projectId: P1, username: 'app1' }, cert);
      await new SecretsManagerClient({}).send(
        new PutSecretValueCommand({ SecretId: name, SecretString: value }),
      );
      const error = await AtlasX509Client.connect({
        secretId: name,
        uri: node.uri,
        refreshIntervalMs: 0,
      }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(CertificateBundleError);
      expect(error).toMatchObject({ secretId: name, field });
      expect((error as Error).message).toBe(`secret ${name}: ${field} ${problem}`);
      expect((error as Error).message).not.toMatch(/PRIVATE KEY|BEGIN/);
    }
    // Nothing tried to log in with any of them.
    expect(node.logins).toEqual([]);
  });
});
