import { v5 as uuidv5 } from 'uuid';
import { z } from 'zod';
import type { ValidatedCertificate } from './certificate.js';
import { formatZodIssues } from './config/errors.js';
import type { ReplicaStatus, ReplicaTag } from './replicas.js';

/**
 * The value a certificate secret holds and what a secret's versions say, apart from how Secrets
 * Manager is called (`adapters/aws/secret-store.ts`). Versions are labelled the way Secrets
 * Manager rotation does (AWSCURRENT, AWSPENDING, AWSPREVIOUS); version ids derive from the
 * certificate serial, so a version's id alone says which certificate it holds.
 */

export const CURRENT = 'AWSCURRENT';
export const PENDING = 'AWSPENDING';

// Fixed namespace: changing it would make every stored certificate look foreign to the plan.
const VERSION_NAMESPACE = '0b8f8d6e-4f53-4c1e-9f0e-5d8b1f6e7a10';

/** The secret version id (ClientRequestToken) for a certificate serial: a UUIDv5 of it. */
export const versionIdFor = (serialNumber: string): string =>
  uuidv5(`atlas-x509:${serialNumber}`, VERSION_NAMESPACE);

const isoDate = z.iso.datetime({ offset: true }).transform((s) => new Date(s));

/** The JSON a certificate secret holds (`SecretString`). */
export const storedCertificateSchema = z.object({
  username: z.string().min(1),
  projectId: z.string().regex(/^[a-f0-9]{24}$/),
  certificate: z.string().includes('-----BEGIN CERTIFICATE-----'),
  privateKey: z.string().includes('PRIVATE KEY-----'),
  pem: z.string(),
  serialNumber: z.string().regex(/^[1-9][0-9]*$/),
  notBefore: isoDate,
  notAfter: isoDate,
});

export type StoredCertificate = z.output<typeof storedCertificateSchema>;

/** Serialises with a fixed key order, so a retried write sends byte-identical text. */
export const serializeStored = (
  user: { projectId: string; username: string },
  cert: ValidatedCertificate,
): string =>
  JSON.stringify({
    username: user.username,
    projectId: user.projectId,
    certificate: cert.certificate,
    privateKey: cert.privateKey,
    pem: cert.pem,
    serialNumber: cert.serialNumber,
    notBefore: cert.notBefore.toISOString(),
    notAfter: cert.notAfter.toISOString(),
  });

/** What the current version holds: our certificate, or something we must not overwrite. */
export type CurrentValue =
  | { kind: 'ours'; value: StoredCertificate }
  | { kind: 'foreign'; problem: string };

export interface SecretState {
  name: string;
  arn: string;
  createdDate: Date;
  /** Set when the secret is scheduled for deletion. */
  deletedDate: Date | undefined;
  /** Version id → staging labels, for versions that carry labels. */
  versions: ReadonlyMap<string, readonly string[]>;
  currentVersionId: string | undefined;
  /** AWSPENDING on a version other than the current one: a rotation not yet finished. */
  pendingVersionId: string | undefined;
  /**
   * AWSPENDING left on the current version: a promotion stopped between its two label moves.
   * Harmless to readers; the next run removes it.
   */
  pendingOnCurrent?: boolean | undefined;
  current: CurrentValue | undefined;
  /** Secrets Manager's own rotation is switched on: another rotator owns the versions. */
  rotationEnabled?: boolean | undefined;
  /** When the current version was stored (Secrets Manager's clock), once its value was read. */
  currentCreatedDate?: Date | undefined;
  /**
   * The held certificate's expiry as last tagged by the rotator: a hint for ordering users by
   * urgency before anything else is read, never a basis for a decision.
   */
  notAfterHint: Date | undefined;
  /**
   * Orphan serials earlier runs already reported (the orphans tag): what lets a run count only
   * the orphans it is first to see. Absent: none recorded.
   */
  orphansSeen?: readonly string[] | undefined;
  /**
   * The policy tag: the hash of the consumers' resource policy the rotator last put, or `none`
   * (`domain/consumers.ts`). Absent: never recorded.
   */
  policyTag?: string | undefined;
  /** The replicas tag (`domain/replicas.ts`). Absent: never recorded (no replicas made). */
  replicaTag?: ReplicaTag | undefined;
  /**
   * Secrets Manager's `LastAccessedDate`: the day (midnight UTC, this Region) the secret was
   * last read by anyone, the rotator included. Absent: never read here, or not reported.
   */
  lastAccessedDate?: Date | undefined;
  /**
   * The own-access tag: when the rotator last promoted a version of the secret (and so read
   * it around then). An access on that day may be the rotator's own, so only a later day
   * proves a consumer read the promoted version (`rotation/upkeep/stale-readers.ts`).
   */
  ownAccess?: Date | undefined;
  /** Every replica's status, when DescribeSecret was read (ListSecrets does not carry it). */
  replication?: readonly ReplicaStatus[] | undefined;
  /** The requests tag: the forced requests that stored a version (`rotation/served.ts`). */
  servedRequests?: readonly ServedRequest[] | undefined;
}

/** A forced request that stored a version: a hash of its id, and the start of the version id. */
export interface ServedRequest {
  request: string;
  version: string;
}

const SERVED = /^([0-9a-f]{16}):([0-9A-Za-z]{1,8})$/;

/** The records a requests tag holds, newest first; anything else in it is ignored. */
export const parseServedTag = (value: string | undefined): ServedRequest[] =>
  (value ?? '').split(' ').flatMap((token) => {
    const m = SERVED.exec(token);
    return m ? [{ request: m[1] as string, version: m[2] as string }] : [];
  });

/** A tag value holds at most this many characters (Secrets Manager's TagResource limit). */
export const TAG_VALUE_MAX = 256;

const serialSchema = z.string().regex(/^[1-9][0-9]*$/);

const bySerial = (a: string, b: string): number =>
  a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

/**
 * The orphans tag's value: distinct serials in ascending order, space-separated, as many whole
 * serials as fit in a tag value (about 12). Past that the rest go unrecorded and count as new
 * again on each run: beyond the orphan limit and the mint cap, a fault to fix anyway.
 */
export const orphansTagValue = (serials: readonly string[]): string => {
  let value = '';
  for (const serial of [...new Set(serials)].sort(bySerial)) {
    const next = value ? `${value} ${serial}` : serial;
    if (next.length > TAG_VALUE_MAX) break;
    value = next;
  }
  return value;
};

/** The serials an orphans tag records; anything that is not a serial is ignored. */
export const parseOrphansTag = (value: string | undefined): string[] =>
  (value ?? '').split(' ').filter((token) => serialSchema.safeParse(token).success);

/** Where AWSCURRENT and AWSPENDING sit, from a secret's version-to-labels map. */
export const labelsOf = (
  versions: ReadonlyMap<string, readonly string[]>,
): Pick<SecretState, 'currentVersionId' | 'pendingVersionId' | 'pendingOnCurrent'> => {
  const versionWith = (stage: string): string | undefined =>
    [...versions].find(([, stages]) => stages.includes(stage))?.[0];
  const currentVersionId = versionWith(CURRENT);
  const pending = versionWith(PENDING);
  const pendingOnCurrent = pending !== undefined && pending === currentVersionId;
  return {
    currentVersionId,
    pendingVersionId: pendingOnCurrent ? undefined : pending,
    pendingOnCurrent,
  };
};

export const parseCurrentValue = (
  text: string | undefined,
  owner: { projectId: string; username: string },
  /** Which version the text is, for the messages. */
  version: 'current' | 'pending' = 'current',
): CurrentValue => {
  if (text === undefined)
    return { kind: 'foreign', problem: `the ${version} version has no SecretString` };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'foreign', problem: `the ${version} value is not JSON` };
  }
  const parsed = storedCertificateSchema.safeParse(json);
  if (!parsed.success) {
    return {
      kind: 'foreign',
      problem: `the ${version} value is not a certificate written by this rotator (${formatZodIssues(parsed.error).join('; ')})`,
    };
  }
  if (parsed.data.projectId !== owner.projectId || parsed.data.username !== owner.username) {
    return {
      kind: 'foreign',
      problem: `the secret holds the certificate of ${parsed.data.projectId}:${parsed.data.username}`,
    };
  }
  return { kind: 'ours', value: parsed.data };
};
