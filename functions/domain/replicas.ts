import type { ReplicaRegion } from './config/types.js';

/**
 * Replica Regions of a certificate secret (Secrets Manager multi-Region secrets), apart from how
 * Secrets Manager is called. ListSecrets does not report a secret's replication status, and a
 * DescribeSecret per user per run would cost a request each: the rotator keeps what it knows in
 * one tag instead, which ListSecrets does return (`ReplicaTag`).
 */

export type { ReplicaRegion };

/** A replica as DescribeSecret (or ReplicateSecretToRegions) reports it. */
export interface ReplicaStatus {
  region: string;
  /** `unknown`: a status Secrets Manager did not document when this was written. */
  status: 'InSync' | 'InProgress' | 'Failed' | 'unknown';
  /** Secrets Manager's words, e.g. why a replica failed. Names and codes only, never values. */
  message?: string | undefined;
}

/**
 * The replicas tag: the Regions the secret is replicated to as the rotator last made or saw
 * them, and the version whose replication it last saw in sync everywhere (`verified`, the
 * first hex digits of its id). A secret whose tag lists every wanted Region and verifies its
 * current version needs no request; any other is described once and the tag brought up to date.
 */
export interface ReplicaTag {
  regions: readonly string[];
  verified: string | undefined;
}

const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
const VERIFIED = /^@[0-9a-f]{12}$/;

/** What the tag records of a version id: 12 hex digits of it (a UUID's first 48 bits). */
export const versionMark = (versionId: string): string =>
  versionId
    .replace(/[^0-9a-f]/gi, '')
    .slice(0, 12)
    .toLowerCase();

/** The tag's value: the Regions sorted, then `@<mark>` when verified. At most ~230 characters. */
export const replicaTagValue = (tag: ReplicaTag): string =>
  [...[...new Set(tag.regions)].sort(), ...(tag.verified ? [`@${tag.verified}`] : [])].join(' ');

/** The tag read back; anything that is neither a Region nor a mark is ignored. */
export const parseReplicaTag = (value: string | undefined): ReplicaTag | undefined => {
  if (value === undefined) return undefined;
  const tokens = value.split(' ').filter(Boolean);
  return {
    regions: tokens.filter((t) => REGION.test(t)),
    verified: tokens.find((t) => VERIFIED.test(t))?.slice(1),
  };
};

/**
 * A replica's ARN: the primary's with the Region swapped (Secrets Manager's naming), or
 * undefined when `arn` is not a secret ARN (a test double's name, say).
 */
export const replicaArn = (arn: string, region: string): string | undefined => {
  const parts = arn.split(':');
  if (parts.length < 7 || parts[0] !== 'arn' || parts[2] !== 'secretsmanager') return undefined;
  parts[3] = region;
  return parts.join(':');
};

/** The replica ARNs of the given Regions, in Region order. */
export const replicaArns = (arn: string, regions: readonly string[]): string[] =>
  [...new Set(regions)].sort().flatMap((r) => replicaArn(arn, r) ?? []);
