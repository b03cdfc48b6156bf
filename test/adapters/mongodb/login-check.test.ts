import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lazyLoginCheck } from '../../../functions/adapters/mongodb/lazy.js';
import {
  checkOptions,
  describeDriverError,
  MongoLoginCheck,
} from '../../../functions/adapters/mongodb/login-check.js';
import { MongoStandIn } from '../../../tools/simulator/mongo-standin.js';
import {
  createProjectCa,
  type MintedCertificate,
  mintCertificate,
  type ProjectCa,
  randomSerial,
} from '../../../tools/simulator/pki.js';
import { testPki } from '../../support/fakes/pki.js';

/**
 * The login check on the real `mongodb` driver against the wire-protocol stand-in: TLS with the
 * certificate from memory, MONGODB-X509, `ping`; every refusal comes back as a reason.
 */

let projectCa: ProjectCa;
let otherCa: ProjectCa;
let standIn: MongoStandIn;
/** One of the file's shared RSA keys. */
const key = async (i: number) => {
  const found = (await testPki()).keys[i];
  if (!found) throw new Error(`no test key ${i}`);
  return found;
};
const mint = async (ca: ProjectCa, commonName: string): Promise<MintedCertificate> => {
  const now = Date.now();
  return mintCertificate({
    ca,
    commonName,
    keys: await key(1),
    serial: randomSerial(),
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 90 * 86_400_000),
  });
};
const check = (uri: string, cert: MintedCertificate, timeoutMs = 5_000) =>
  new MongoLoginCheck().check({
    uri,
    certificate: cert.certificate,
    privateKey: cert.privateKey,
    timeoutMs,
  });

beforeAll(async () => {
  const caKeys = await key(0);
  [projectCa, otherCa] = await Promise.all([
    createProjectCa(caKeys, new Date()),
    createProjectCa(caKeys, new Date()),
  ]);
  standIn = await MongoStandIn.start({ clientCa: projectCa.certificatePem, users: ['app1'] });
});
afterAll(async () => standIn.close());

describe('login check (mongodb driver)', () => {
  it('passes a certificate of the project CA naming a user: it logged in and pinged', async () => {
    const cert = await mint(projectCa, 'app1');
    const pings = standIn.pings;
    expect(await check(standIn.uri, cert)).toEqual({ ok: true });
    expect(standIn.accepted).toContain(cert.serialNumber);
    expect(standIn.pings).toBe(pings + 1);
  });

  it("fails a certificate another CA signed, in the driver's words", async () => {
    const cert = await mint(otherCa, 'app1');
    // The handshake fails, so the driver keeps selecting a server until its timeout.
    const result = await check(standIn.uri, cert, 1_000);
    expect(result.ok).toBe(false);
    expect(standIn.accepted).not.toContain(cert.serialNumber);
    if (!result.ok) {
      expect(result.reason).toMatch(/^Mongo\w*Error/);
      expect(result.reason.length).toBeLessThanOrEqual(300);
    }
  });

  it('fails a certificate naming a user the cluster does not know (UserNotFound)', async () => {
    const cert = await mint(projectCa, 'stranger');
    const result = await check(standIn.uri, cert);
    expect(result).toEqual({
      ok: false,
      reason: expect.stringContaining('Could not find user "CN=stranger" for db "$external"'),
    });
    expect(result.ok === false && result.reason).toMatch(/11 UserNotFound/);
  });

  it('fails, within its timeout, when nothing answers', async () => {
    // A port that accepts and never speaks: the TLS handshake never completes.
    const silent = createServer(() => undefined);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const { port } = silent.address() as { port: number };
    try {
      const result = await check(
        `mongodb://127.0.0.1:${port}/?directConnection=true`,
        await mint(projectCa, 'app1'),
        600,
      );
      // The driver's own timeouts (80% of the check's) end it, and say so.
      expect(result).toEqual({
        ok: false,
        reason: expect.stringMatching(/^MongoServerSelectionError: .*timed out/),
      });
    } finally {
      silent.close();
    }
  });

  it('fails a connection string the driver refuses, without throwing', async () => {
    const result = await check('mongodb://localhost:1/?unknownOption=1&tlsCAFile=/nonexistent', {
      ...(await mint(projectCa, 'app1')),
    });
    expect(result.ok).toBe(false);
  });
});

describe('login check: what it asks of the driver', () => {
  it('presents the certificate from memory with MONGODB-X509 on $external, one connection, no retries', () => {
    expect(
      checkOptions({ uri: 'mongodb://x', certificate: 'C', privateKey: 'K', timeoutMs: 7_000 }),
    ).toMatchObject({
      tls: true,
      cert: 'C',
      key: 'K',
      authMechanism: 'MONGODB-X509',
      authSource: '$external',
      serverSelectionTimeoutMS: 5_600,
      connectTimeoutMS: 5_600,
      maxPoolSize: 1,
      retryReads: false,
      retryWrites: false,
    });
  });

  it('reports an error on one line, without anything shaped like a PEM block', () => {
    const err = new Error(
      'bad\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\ntrailing',
    );
    expect(describeDriverError(err)).toBe('Error: bad [PEM] trailing');
    expect(describeDriverError(new Error('x'.repeat(500)))).toHaveLength(300);
  });
});

describe('login check, loaded lazily', () => {
  it('loads the driver on the first check only, and a load failure is a failed check', async () => {
    let loads = 0;
    const loaded = lazyLoginCheck(async () => {
      loads += 1;
      return { check: async () => ({ ok: true }) };
    });
    expect(loads).toBe(0);
    const request = { uri: 'mongodb://x', certificate: 'C', privateKey: 'K', timeoutMs: 1 };
    await loaded.check(request);
    await loaded.check(request);
    expect(loads).toBe(1);
    const broken = lazyLoginCheck(async () => {
      throw new Error('Cannot find module kerberos');
    });
    expect(await broken.check(request)).toEqual({
      ok: false,
      reason: 'the mongodb driver could not be loaded: Error: Cannot find module kerberos',
    });
  });
});
