/**
 * Certificate authority and certificate minting for the Atlas simulator, shaped like the
 * Atlas-managed X.509 certificates described in the API reference (§4): subject `CN=<username>`,
 * a per-project issuer `CN=<24 hex>, OU=Atlas, O=MongoDB Inc`, RSA + sha256WithRSAEncryption,
 * critical KeyUsage digitalSignature and critical EKU clientAuth, no SAN, a 64-bit serial.
 */
// tsyringe (used by @peculiar/x509) refuses to load without Reflect metadata: keep this first.
import './reflect-metadata-shim.js';

import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;

/** An RSA key pair usable for signing with RSASSA-PKCS1-v1_5 / SHA-256. */
export interface RsaKeyPair {
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}

/** A per-project signing CA, like the one Atlas keeps for each project. */
export interface ProjectCa {
  name: x509.Name;
  keys: RsaKeyPair;
  certificatePem: string;
}

/** What one minted certificate consists of. */
export interface MintedCertificate {
  /** Certificate PEM block, 64-column lines, trailing newline. */
  certificate: string;
  /** Unencrypted PKCS#8 `BEGIN PRIVATE KEY` PEM block, 64-column lines, trailing newline. */
  privateKey: string;
  /** `certificate + privateKey`, exactly the body Atlas returns on create. */
  pem: string;
  /** Decimal serial number; it is the `_id` in the certificate list. */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}

export interface MintParams {
  ca: ProjectCa;
  /** The database username; becomes the only attribute of the subject: `CN=<username>`. */
  commonName: string;
  keys: RsaKeyPair;
  serial: bigint;
  notBefore: Date;
  notAfter: Date;
}

// Node's webcrypto is a standard Crypto implementation; the library's types refer to the DOM one.
const crypto = webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.create>[1];

const RSA_ALGORITHM = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
} as const;

/**
 * Generates an RSA key pair. webcrypto runs the prime search on libuv's thread pool, so the HTTP
 * server keeps serving while a 2048/4096-bit key is being generated.
 */
export const generateRsaKeyPair = async (modulusLength: number): Promise<RsaKeyPair> => {
  const pair = await webcrypto.subtle.generateKey({ ...RSA_ALGORITHM, modulusLength }, true, [
    'sign',
    'verify',
  ]);
  return { publicKey: pair.publicKey, privateKey: pair.privateKey };
};

/** PEM-armours DER bytes the way Atlas does: 64-column base64 lines, `\n`, trailing newline. */
export const toPem = (label: string, der: ArrayBuffer | Uint8Array): string => {
  const base64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString(
    'base64',
  );
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
};

/** Exports a private key as unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
export const privateKeyPem = async (key: CryptoKey): Promise<string> =>
  toPem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));

const TWO_POW_53 = 2n ** 53n;
const TWO_POW_63 = 2n ** 63n;

/**
 * A random serial in (2^53, 2^63): above 2^53 so that a client parsing `_id` with plain
 * `JSON.parse` visibly loses digits, and below 2^63 so it fits the spec's int64 and its DER
 * INTEGER encoding stays 8 bytes without a sign byte.
 */
export const randomSerial = (): bigint => {
  for (;;) {
    const candidate = randomBytes(8).readBigUInt64BE() & (TWO_POW_63 - 1n);
    if (candidate > TWO_POW_53) return candidate;
  }
};

/** Renders a serial as the even-length hex string @peculiar/x509 expects. */
const serialHex = (serial: bigint): string => {
  const hex = serial.toString(16);
  return hex.length % 2 === 0 ? hex : `0${hex}`;
};

/** Random 24-hex-character id, the shape of Atlas project and CA ids. */
export const randomObjectId = (): string => randomBytes(12).toString('hex');

/**
 * Adds calendar months in UTC keeping day-of-month and time of day (08-10T03:06:35 + 3 →
 * 11-10T03:06:35, as observed). A day that does not exist in the target month is clamped to the
 * month's last day (01-31 + 1 → 02-28), as java.time's `plusMonths` does; Atlas runs on the JVM.
 */
export const addCalendarMonths = (from: Date, months: number): Date => {
  const year = from.getUTCFullYear();
  const month = from.getUTCMonth() + months;
  const lastDayOfTarget = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return new Date(
    Date.UTC(
      year,
      month,
      Math.min(from.getUTCDate(), lastDayOfTarget),
      from.getUTCHours(),
      from.getUTCMinutes(),
      from.getUTCSeconds(),
    ),
  );
};

/** Drops the milliseconds: X.509 validity times have one-second resolution. */
export const truncateToSeconds = (date: Date): Date =>
  new Date(Math.floor(date.getTime() / 1000) * 1000);

/**
 * Escapes an attribute value for an RFC 4514 string: `"+,;<>\` anywhere, `#` or space at the
 * start, space at the end, NUL as `\00`. This is what Node's `X509Certificate.subject` prints,
 * e.g. `CN=a\+b` for the user `a+b`, and what the list endpoint's `subject` shows.
 */
export const escapeRfc4514 = (value: string): string =>
  value
    .replace(/["+,;<>\\]/g, '\\$&')
    .replace(/\0/g, '\\00')
    .replace(/^[ #]/, '\\$&')
    .replace(/ $/, '\\ ');

/** The RFC 4514 subject string of a managed certificate for this username. */
export const subjectFor = (username: string): string => `CN=${escapeRfc4514(username)}`;

/**
 * A DN attribute value as an explicit ASN.1 string: PrintableString when the value allows it (as
 * in the recorded Atlas certificates), UTF8String otherwise. Passing the raw value this way also
 * keeps @peculiar/x509 from interpreting backslashes, quotes or a leading `#` in the username.
 */
const directoryString = (value: string): x509.JsonAttributeObject =>
  x509.Name.isPrintableString(value) ? { printableString: value } : { utf8String: value };

const nameOf = (attributes: [type: string, value: string][]): x509.Name =>
  new x509.Name(attributes.map(([type, value]) => ({ [type]: [directoryString(value)] })));

/**
 * Creates a self-signed per-project CA (basicConstraints CA, keyCertSign). Its DN lists CN, OU, O
 * in that order, matching the DER order of the issuer in the recorded Atlas certificate.
 */
export const createProjectCa = async (keys: RsaKeyPair, now: Date): Promise<ProjectCa> => {
  const name = nameOf([
    ['CN', randomObjectId()],
    ['OU', 'Atlas'],
    ['O', 'MongoDB Inc'],
  ]);
  // A wide window, so leaf certificates stay inside it even when a test moves the clock by years.
  const start = truncateToSeconds(now);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialHex(randomSerial()),
      subject: name,
      issuer: name,
      notBefore: addCalendarMonths(start, -60),
      notAfter: addCalendarMonths(start, 120),
      publicKey: keys.publicKey,
      signingKey: keys.privateKey,
      signingAlgorithm: RSA_ALGORITHM,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
      ],
    },
    crypto,
  );
  return { name, keys, certificatePem: toPem('CERTIFICATE', cert.rawData) };
};

/** Mints one client certificate signed by the project CA, with the given key and validity. */
export const mintCertificate = async (params: MintParams): Promise<MintedCertificate> => {
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: serialHex(params.serial),
      subject: nameOf([['CN', params.commonName]]),
      issuer: params.ca.name,
      notBefore: params.notBefore,
      notAfter: params.notAfter,
      publicKey: params.keys.publicKey,
      signingKey: params.ca.keys.privateKey,
      signingAlgorithm: RSA_ALGORITHM,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], true),
      ],
    },
    crypto,
  );
  const certificate = toPem('CERTIFICATE', cert.rawData);
  const privateKey = await privateKeyPem(params.keys.privateKey);
  return {
    certificate,
    privateKey,
    pem: certificate + privateKey,
    serialNumber: params.serial.toString(10),
    notBefore: params.notBefore,
    notAfter: params.notAfter,
  };
};
