import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { shortestLifetimeDays } from './config/lifetime.js';
import { RotatorError } from './errors.js';
import { type CertificateDates, DAY_MS, freshnessProblem, type RenewalPolicy } from './renewal.js';

/**
 * PEM handling and validation of what Atlas mints. Everything is checked in memory, with
 * node:crypto, before a byte is stored: a minted key cannot be fetched again, and a bad one
 * must never become current.
 */

const CLIENT_AUTH_EKU = '1.3.6.1.5.5.7.3.2';
const INT64_MAX = 2n ** 63n - 1n;

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \1-----/g;

/** A certificate and its key, validated; the shape stored in the secret, minus the ids. */
export interface ValidatedCertificate extends CertificateDates {
  /** The certificate PEM block, ending with a newline. */
  certificate: string;
  /** The unencrypted PKCS#8 private key PEM block, ending with a newline. */
  privateKey: string;
  /** Certificate then key: what drivers take as `tlsCertificateKeyFile`. */
  pem: string;
}

/** A certificate that must not be stored or made current. The message says why, never what. */
export class CertificateRejectedError extends RotatorError {
  constructor(problem: string, options?: { cause?: unknown }) {
    super(`Certificate rejected: ${problem}`, {
      code: 'CERTIFICATE_REJECTED',
      remedy:
        'Nothing was made current; the previous certificate stays in use. If Atlas minted it, it is an orphan until it expires. If this repeats, check the Atlas user and open an issue with the run report.',
      scope: 'user',
      cause: options?.cause,
    });
    this.name = 'CertificateRejectedError';
  }
}

/**
 * Splits a PEM bundle into exactly one certificate block and one PKCS#8 private-key block,
 * whatever the order and spacing. Anything else is rejected without echoing the content.
 */
export const splitPem = (body: string): { certificate: string; privateKey: string } => {
  const certificates: string[] = [];
  const keys: string[] = [];
  const others = new Set<string>();
  for (const match of body.matchAll(BLOCK)) {
    const label = match[1] ?? '';
    const block = `${match[0].replace(/\r\n/g, '\n')}\n`;
    if (label === 'CERTIFICATE') certificates.push(block);
    else if (label === 'PRIVATE KEY') keys.push(block);
    else others.add(label);
  }
  if (others.size > 0) {
    throw new CertificateRejectedError(`unexpected PEM block(s): ${[...others].join(', ')}`);
  }
  if (certificates.length !== 1) {
    throw new CertificateRejectedError(
      `expected exactly one certificate block, found ${certificates.length}`,
    );
  }
  if (keys.length !== 1) {
    throw new CertificateRejectedError(
      `expected exactly one unencrypted PKCS#8 private key block, found ${keys.length}`,
    );
  }
  return { certificate: certificates[0] as string, privateKey: keys[0] as string };
};

/** Hex serial as node:crypto prints it → the decimal string Atlas lists as `_id`. */
export const serialToDecimal = (hex: string): string => BigInt(`0x${hex}`).toString(10);

/**
 * The common name of a subject that is exactly one `CN=` attribute, with RFC 4514 escapes
 * undone (node prints `CN=a\+b` for the user `a+b`); undefined for any other shape.
 */
export const singleCommonName = (subject: string): string | undefined => {
  const text = subject.trim();
  if (text.includes('\n') || !text.startsWith('CN=')) return undefined;
  const bytes: number[] = [];
  const value = text.slice(3);
  for (let i = 0; i < value.length; i++) {
    const ch = value[i] as string;
    if (ch === '\\') {
      const hex = value.slice(i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
      } else if (i + 1 < value.length) {
        bytes.push(...Buffer.from(value[i + 1] as string, 'utf8'));
        i += 1;
      } else {
        return undefined;
      }
    } else if (ch === '+' || ch === ',' || ch === ';') {
      return undefined; // an unescaped separator: a multi-valued or second RDN
    } else {
      bytes.push(...Buffer.from(ch, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
};

const parseDate = (text: string, what: string): Date => {
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new CertificateRejectedError(`unreadable ${what} date`);
  return date;
};

const parseCertificate = (pem: string): X509Certificate => {
  try {
    return new X509Certificate(pem);
  } catch (cause) {
    throw new CertificateRejectedError('the certificate does not parse', {
      cause: errorCode(cause),
    });
  }
};

const parseKey = (pem: string): KeyObject => {
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (cause) {
    throw new CertificateRejectedError('the private key does not parse', {
      cause: errorCode(cause),
    });
  }
};

// node:crypto errors carry OpenSSL reasons, never key bytes; keep only the code to be sure.
const errorCode = (err: unknown): string =>
  (err as { code?: string } | undefined)?.code ?? 'ERR_CRYPTO';

export interface ValidationExpectations {
  username: string;
  policy: RenewalPolicy;
  now: Date;
  /** For a certificate minted just now: the validity asked of Atlas. */
  requestedMonths?: number;
}

/**
 * Validates a certificate-and-key bundle for `username`: both parse, the key matches the
 * certificate, the subject is exactly `CN=<username>`, the serial fits Atlas's int64 `_id`, it is
 * a client-auth leaf certificate, and it is not already inside its renewal window.
 */
export const validateBundle = (
  body: string,
  expected: ValidationExpectations,
): ValidatedCertificate => {
  const { certificate, privateKey } = splitPem(body);
  const x509 = parseCertificate(certificate);
  const key = parseKey(privateKey);
  if (key.type !== 'private') throw new CertificateRejectedError('the key is not a private key');
  if (!x509.checkPrivateKey(key)) {
    throw new CertificateRejectedError('the private key does not match the certificate');
  }
  const cn = singleCommonName(x509.subject);
  if (cn !== expected.username) {
    throw new CertificateRejectedError(
      `the subject is not CN=<${expected.username}> (found ${JSON.stringify(x509.subject)})`,
    );
  }
  if (x509.ca)
    throw new CertificateRejectedError('it is a CA certificate, not a client certificate');
  const eku = x509.keyUsage;
  if (eku !== undefined && !eku.includes(CLIENT_AUTH_EKU)) {
    throw new CertificateRejectedError('its extended key usage does not allow TLS client auth');
  }
  const serial = BigInt(`0x${x509.serialNumber}`);
  if (serial <= 0n || serial > INT64_MAX) {
    throw new CertificateRejectedError('its serial number does not fit the Atlas certificate id');
  }
  const dates: CertificateDates = {
    serialNumber: serial.toString(10),
    notBefore: parseDate(x509.validFrom, 'notBefore'),
    notAfter: parseDate(x509.validTo, 'notAfter'),
  };
  const problem = freshnessProblem(dates, expected.policy, expected.now);
  if (problem) throw new CertificateRejectedError(problem);
  if (expected.requestedMonths !== undefined) {
    // A day's slack for clock skew; a month is at least 28 days.
    const validDays = (dates.notAfter.getTime() - expected.now.getTime()) / DAY_MS;
    if (validDays < shortestLifetimeDays(expected.requestedMonths) - 1) {
      throw new CertificateRejectedError(
        `it is valid for ${validDays.toFixed(1)} days, less than the ${expected.requestedMonths} month(s) requested`,
      );
    }
  }
  return { ...dates, certificate, privateKey, pem: `${certificate}${privateKey}` };
};
