import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CertificateRejectedError,
  serialToDecimal,
  singleCommonName,
  splitPem,
  validateBundle,
} from '../../functions/domain/certificate.js';
import {
  addCalendarMonths,
  createProjectCa,
  generateRsaKeyPair,
  mintCertificate,
  type ProjectCa,
  type RsaKeyPair,
  randomSerial,
} from '../../tools/simulator/pki.js';
import { loadRecorded } from '../support/recorded.js';

const fixture = (name: string) => loadRecorded(name).body;

const now = new Date('2026-08-10T03:06:40Z');
const thirds = { renewBeforeDays: undefined };
let ca: ProjectCa;
let keys: RsaKeyPair;
let otherKeys: RsaKeyPair;

const mint = (
  commonName: string,
  over: { notBefore?: Date; notAfter?: Date; keys?: RsaKeyPair } = {},
) => {
  const notBefore = over.notBefore ?? new Date(now.getTime() - 3_600_000);
  return mintCertificate({
    ca,
    commonName,
    keys: over.keys ?? keys,
    serial: randomSerial(),
    notBefore,
    notAfter: over.notAfter ?? addCalendarMonths(new Date(now), 3),
  });
};

const rejection = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(CertificateRejectedError);
    return (err as Error).message;
  }
  throw new Error('expected a rejection');
};

beforeAll(async () => {
  [keys, otherKeys] = await Promise.all([generateRsaKeyPair(2048), generateRsaKeyPair(2048)]);
  ca = await createProjectCa(await generateRsaKeyPair(2048), now);
});

describe('certificate: the recorded Atlas create response', () => {
  const body = fixture('create-cert.http');

  it('holds a certificate whose serial is the listed _id, digit for digit', () => {
    const certificate = body.slice(0, body.indexOf('REDACTED'));
    const x509 = new X509Certificate(certificate);
    expect(serialToDecimal(x509.serialNumber)).toBe('1976722359483124370');
    expect(fixture('list-certs.http')).toContain('"_id":1976722359483124370');
    expect(singleCommonName(x509.subject)).toBe('user389');
  });

  it('is rejected as it was recorded, because the recorder removed the key', () => {
    expect(rejection(() => splitPem(body))).toContain(
      'expected exactly one unencrypted PKCS#8 private key block, found 0',
    );
  });
});

describe('certificate: validateBundle', () => {
  it('accepts a minted bundle and returns its parts and dates', async () => {
    const minted = await mint('app1');
    const got = validateBundle(minted.pem, { username: 'app1', policy: thirds, now });
    expect(got.serialNumber).toBe(minted.serialNumber);
    expect(got.certificate).toBe(minted.certificate);
    expect(got.privateKey).toBe(minted.privateKey);
    expect(got.pem).toBe(minted.certificate + minted.privateKey);
    expect(got.notAfter).toEqual(minted.notAfter);
    expect(got.notBefore).toEqual(minted.notBefore);
  });

  it('accepts the key before the certificate, and CRLF line ends', async () => {
    const minted = await mint('app1');
    const swapped = (minted.privateKey + minted.certificate).replace(/\n/g, '\r\n');
    expect(validateBundle(swapped, { username: 'app1', policy: thirds, now }).serialNumber).toBe(
      minted.serialNumber,
    );
  });

  it.each(['svc.reporting+eu@corp', 'a,b', 'a+b', 'o"brien', ' lead', 'x=y;z', 'ünï'])(
    'matches the escaped subject of the unusual username %j',
    async (username) => {
      const minted = await mint(username);
      expect(validateBundle(minted.pem, { username, policy: thirds, now }).serialNumber).toBe(
        minted.serialNumber,
      );
    },
  );

  it('rejects a key that does not match the certificate', async () => {
    const minted = await mint('app1');
    const other = await mint('app1', { keys: otherKeys });
    expect(
      rejection(() =>
        validateBundle(minted.certificate + other.privateKey, {
          username: 'app1',
          policy: thirds,
          now,
        }),
      ),
    ).toContain('does not match');
  });

  it('rejects another user’s certificate', async () => {
    const minted = await mint('app1-other');
    expect(
      rejection(() => validateBundle(minted.pem, { username: 'app1', policy: thirds, now })),
    ).toContain('the subject is not CN=<app1>');
  });

  it('rejects a certificate already inside its renewal window, or expired', async () => {
    const short = await mint('app1', { notAfter: new Date(now.getTime() + 86_400_000) });
    expect(
      rejection(() =>
        validateBundle(short.pem, { username: 'app1', policy: { renewBeforeDays: 10 }, now }),
      ),
    ).toContain('already inside its renewal window');
    const expired = await mint('app1', {
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2026-02-01T00:00:00Z'),
    });
    expect(
      rejection(() => validateBundle(expired.pem, { username: 'app1', policy: thirds, now })),
    ).toContain('expired');
  });

  it('rejects truncated, keyless, garbage and extra-block bodies without echoing them', async () => {
    const minted = await mint('app1');
    const cases = [
      minted.pem.slice(0, minted.pem.length / 3),
      minted.certificate,
      'not a pem at all',
      minted.pem.replace(/PRIVATE KEY/g, 'ENCRYPTED PRIVATE KEY'),
      minted.pem + minted.certificate,
      minted.pem.replace(/(BEGIN CERTIFICATE-----\n)(.{10})/, '$1AAAAAAAAAA'),
    ];
    for (const body of cases) {
      const message = rejection(() =>
        validateBundle(body, { username: 'app1', policy: thirds, now }),
      );
      expect(message).not.toContain('MII');
      expect(message).not.toContain('PRIVATE KEY-----');
    }
  });
});

describe('certificate: singleCommonName', () => {
  it.each([
    ['CN=user389', 'user389'],
    ['CN=a\\+b', 'a+b'],
    ['CN=a\\,b', 'a,b'],
    ['CN=\\ lead', ' lead'],
    ['CN=\\C3\\BC', 'ü'],
    ['CN=a + O=b', undefined],
    ['CN=a\nO=b', undefined],
    ['O=b', undefined],
    ['CN=a\\', undefined],
  ])('reads %j as %j', (subject, expected) => {
    expect(singleCommonName(subject)).toBe(expected);
  });
});
