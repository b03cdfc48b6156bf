import { DAY_MS } from '../../../functions/domain/renewal.js';
import type { Clock } from '../../../functions/domain/rotation/index.js';
import {
  generateRsaKeyPair,
  type RsaKeyPair,
  truncateToSeconds,
} from '../../../tools/simulator/pki.js';

// Real certificates for the fakes: RSA keys come from a small pool per test file, so only key
// generation costs time.

export interface TestPki {
  keys: readonly RsaKeyPair[];
}

let sharedPki: Promise<TestPki> | undefined;

/** RSA keys shared by a test file (each file runs in its own process); signing is cheap. */
export const testPki = (size = 2): Promise<TestPki> => {
  sharedPki ??= Promise.all(Array.from({ length: size }, () => generateRsaKeyPair(2048))).then(
    (keys) => ({ keys }),
  );
  return sharedPki;
};

export interface CertDates {
  notBefore: Date;
  notAfter: Date;
}

/** Dates of a certificate with `daysLeft` of a `lifetimeDays` life left at the clock's now. */
export const datesFor = (clock: Clock, daysLeft: number, lifetimeDays = 91): CertDates => {
  const now = truncateToSeconds(clock.now()).getTime();
  return {
    notBefore: new Date(now - (lifetimeDays - daysLeft) * DAY_MS),
    notAfter: new Date(now + daysLeft * DAY_MS),
  };
};
