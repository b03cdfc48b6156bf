import { createHash } from 'node:crypto';

/**
 * Certificate arithmetic: the renewal window and its spread, freshness, orphans, list lag. No
 * I/O, an explicit `now`. The decisions built on it are the named checks in
 * `rotation/policies/`.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** Atlas backdates `notBefore` (and so the listed `createdAt`) by one hour [observed]. */
export const ATLAS_BACKDATE_MS = HOUR_MS;

/** Renewals spread over at most a quarter of the window, and never more than a week. */
const MAX_SPREAD_MS = 7 * DAY_MS;

/** The dates of a certificate that decide its renewal. */
export interface CertificateDates {
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}

export interface RenewalPolicy {
  /** Absent: renew once less than a third of the lifetime remains (cert-manager's default). */
  renewBeforeDays: number | undefined;
}

/** Length of the renewal window: how long before `notAfter` renewal may start. */
export const renewalWindowMs = (cert: CertificateDates, policy: RenewalPolicy): number =>
  policy.renewBeforeDays === undefined
    ? Math.floor((cert.notAfter.getTime() - cert.notBefore.getTime()) / 3)
    : policy.renewBeforeDays * DAY_MS;

/** The earliest moment a certificate may be renewed, before any spreading. */
export const windowOpensAt = (cert: CertificateDates, policy: RenewalPolicy): Date =>
  new Date(cert.notAfter.getTime() - renewalWindowMs(cert, policy));

/** A stable number in [0, 1) for a key: the same user always lands on the same offset. */
export const spreadFraction = (key: string): number =>
  createHash('sha256').update(key).digest().readUInt32BE(0) / 2 ** 32;

/**
 * When this user's certificate is renewed: inside the window, moved later by a per-user offset
 * so that users created together do not renew together forever.
 */
export const renewalTime = (cert: CertificateDates, policy: RenewalPolicy, key: string): Date => {
  const window = renewalWindowMs(cert, policy);
  const spread = Math.min(window / 4, MAX_SPREAD_MS);
  return new Date(cert.notAfter.getTime() - window + Math.floor(spread * spreadFraction(key)));
};

/**
 * A new certificate must be usable and must not itself be inside its renewal window, or the
 * next run would mint again.
 */
export const freshnessProblem = (
  cert: CertificateDates,
  policy: RenewalPolicy,
  now: Date,
): string | undefined => {
  if (cert.notBefore.getTime() > now.getTime() + 5 * 60_000) {
    return `it is not valid before ${cert.notBefore.toISOString()}`;
  }
  if (cert.notAfter <= now) return `it expired on ${cert.notAfter.toISOString()}`;
  if (windowOpensAt(cert, policy) <= now) {
    return `it expires on ${cert.notAfter.toISOString()}, already inside its renewal window`;
  }
  return undefined;
};

/** No certificate at all, or one expiring within `criticalDays`: never parked by a limit. */
export const isCritical = (
  held: CertificateDates | undefined,
  now: Date,
  criticalDays: number,
): boolean => !held || held.notAfter.getTime() - now.getTime() < criticalDays * DAY_MS;

/** A certificate as Atlas lists it. */
export interface ListedCertificate {
  serialNumber: string;
  createdAt: Date;
  notAfter: Date;
}

/**
 * Unexpired Atlas certificates, minted while we managed this user, newer than the one we hold,
 * that no secret version holds: their private keys are lost (a create whose response never
 * arrived, or a crash before storing). Certificates older than our first secret are someone
 * else's (e.g. created by hand) and are not counted.
 */
export const findOrphans = (input: {
  listed: readonly ListedCertificate[];
  isHeld: (serialNumber: string) => boolean;
  held: CertificateDates | undefined;
  managedSince: Date;
  now: Date;
}): ListedCertificate[] =>
  input.listed.filter(
    (cert) =>
      cert.notAfter > input.now &&
      !input.isHeld(cert.serialNumber) &&
      cert.createdAt.getTime() + ATLAS_BACKDATE_MS >= input.managedSince.getTime() &&
      (!input.held || cert.createdAt > input.held.notBefore),
  );

/** Orphans minted within the last `windowDays`: what the mint limit counts. */
export const recentOrphans = (
  orphans: readonly ListedCertificate[],
  now: Date,
  windowDays: number,
): ListedCertificate[] =>
  orphans.filter(
    (cert) => cert.createdAt.getTime() + ATLAS_BACKDATE_MS >= now.getTime() - windowDays * DAY_MS,
  );

/**
 * Atlas lists every unexpired certificate; a held, unexpired certificate it does not list
 * belongs to another user or project (or the user was re-created). Right after a mint the list
 * may lag, so a certificate younger than `graceMs` is given the benefit of the doubt.
 */
export const heldButUnlisted = (input: {
  held: CertificateDates | undefined;
  listed: readonly ListedCertificate[];
  now: Date;
  graceMs: number;
}): boolean => {
  const { held, listed, now } = input;
  if (!held || held.notAfter <= now) return false;
  if (listed.some((c) => c.serialNumber === held.serialNumber)) return false;
  const issuedAt = held.notBefore.getTime() + ATLAS_BACKDATE_MS;
  return now.getTime() - issuedAt > input.graceMs;
};
