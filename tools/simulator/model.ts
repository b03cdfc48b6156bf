/** The simulator's options, its recorded requests and stats, and its in-memory state. */
import type { IncomingHttpHeaders } from 'node:http';
import type { FaultType } from './faults.js';
import type { ProjectCa, RsaKeyPair } from './pki.js';
import type { RateLimitOptions } from './rate-limit.js';
import type { SimResponse } from './responses.js';

export type X509Type = 'NONE' | 'CUSTOMER' | 'MANAGED';
export type DatabaseName = 'admin' | '$external';
export type MissingUserErrorCode = 'USERNAME_NOT_FOUND' | 'USER_NOT_FOUND' | 'RESOURCE_NOT_FOUND';
export type UnknownGroupResponse = 'GROUP_NOT_FOUND' | 'NOT_IN_GROUP';
export type AuthMethod = 'bearer' | 'digest' | 'basic' | 'none';

/**
 * Switches for behaviour the reference marks unconfirmed or that varies between Atlas
 * deployments. Mutable at run time through `simulator.behaviour`.
 */
export interface SimulatorBehaviour {
  /** errorCode of the 404 for a database user that does not exist (list and create). */
  missingUserErrorCode: MissingUserErrorCode;
  /** An unknown project: 404 `GROUP_NOT_FOUND`, or 401 `NOT_IN_GROUP`. */
  unknownGroupResponse: UnknownGroupResponse;
  /** Whether a Digest nonce may be reused with a strictly increasing `nc` until it expires. */
  digestNonceReuse: boolean;
  /** Lifetime of a Digest nonce (simulator clock). */
  nonceTtlSeconds: number;
  /** Certificates minted less than this long ago (simulator clock) are not listed yet. */
  listLagMs: number;
  /** Atlas-generated certificates allowed per project+username. */
  perUserCertLimit: number;
  /** Whether expired certificates count towards `perUserCertLimit`. */
  capCountsExpired: boolean;
  /** Whether a customer CA on the project blocks creating Atlas-managed certificates. */
  advancedX509BlocksManaged: boolean;
  /** `expires_in` of issued access tokens. */
  tokenTtlSeconds: number;
  /**
   * `GET /rateLimits`: served, refused to this credential (401 `USER_UNAUTHORIZED`, as for a
   * role it lacks) or unknown (406 `INVALID_VERSION_DATE`, as before the endpoint existed).
   */
  rateLimitsEndpoint: 'served' | 'denied' | 'absent';
}

export const DEFAULT_BEHAVIOUR: Readonly<SimulatorBehaviour> = {
  missingUserErrorCode: 'USERNAME_NOT_FOUND',
  unknownGroupResponse: 'GROUP_NOT_FOUND',
  digestNonceReuse: false,
  nonceTtlSeconds: 300,
  listLagMs: 0,
  perUserCertLimit: 100,
  capCountsExpired: true,
  advancedX509BlocksManaged: true,
  tokenTtlSeconds: 3600,
  rateLimitsEndpoint: 'served',
};

export interface LatencyOptions {
  /** GET `.../certs` and GET `.../databaseUsers`. */
  list?: number;
  /** POST `.../certs`. */
  create?: number;
  /** Every other `/api` request, including the OAuth endpoints. */
  other?: number;
}

export interface ServiceAccount {
  clientId: string;
  clientSecret: string;
}

export interface ApiKey {
  publicKey: string;
  privateKey: string;
}

export interface AtlasSimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** The simulator clock; default real time. */
  now?: () => Date;
  /** RSA modulus of minted keys and project CAs; default 2048 (Atlas uses 4096). */
  keyBits?: number;
  /** When > 0, generate this many keys at start and reuse them round-robin (benchmarks). */
  keyPool?: number;
  /**
   * Keys to reuse round-robin instead of generating (a test process shares one set across its
   * simulators: RSA generation is most of a test's CPU). The first also signs every project CA.
   */
  keys?: readonly RsaKeyPair[];
  serviceAccounts?: readonly ServiceAccount[];
  apiKeys?: readonly ApiKey[];
  /** A token bucket for `/api/atlas/v2`; without it headers still say limit 1200. */
  rateLimit?: RateLimitOptions;
  latencyMs?: LatencyOptions;
  behaviour?: Partial<SimulatorBehaviour>;
}

/** One request as the simulator saw it. Never holds secrets, tokens or bodies. */
export interface RecordedRequest {
  method: string;
  /** Path without the query, as received (percent-encoded). */
  path: string;
  query: Record<string, string>;
  /**
   * Status the simulator decided on; 0 when a fault dropped the request before processing. For
   * `resetAfterProcessing`/`hangAfterProcessing` it is the status the client never received.
   */
  status: number;
  /** How the request authenticated successfully; 'none' when it did not. */
  auth: AuthMethod;
  /** The fault applied to this request, if any. */
  fault?: FaultType;
  /** The service account a Bearer request came from (its token's client id). */
  clientId?: string;
  /** A create that minted: the new certificate's decimal serial (delivered or not). */
  serialNumber?: string;
}

/** An answer the simulator delivers, with its request (for the contract checks). */
export interface SimulatorExchange {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  response: SimResponse;
  fault: FaultType | undefined;
}

export interface SimulatorStats {
  tokensIssued: number;
  /** 401 responses that carried a Digest challenge. */
  digestChallenges: number;
  /** 429 responses sent. */
  rateLimited: number;
  /** Certificates minted through the API (POST), including mangled ones; seeding not counted. */
  certificatesMinted: number;
  /** Calls of DELETE `.../userSecurity/customerX509` that succeeded. */
  customerX509Disabled: number;
}

export interface RecordedCertificate {
  /** Decimal serial: the `_id` in the list. */
  serialNumber: string;
  /** notBefore; the list's `createdAt`. */
  createdAt: Date;
  notAfter: Date;
  /** RFC 4514 subject, e.g. `CN=a\+b`. */
  subject: string;
  /** When (simulator clock) the certificate was minted; drives `listLagMs`. */
  mintedAt: Date;
}

export interface SeedCertificateOptions {
  /** Validity in calendar months from now when `notAfter` is not given; default 3. */
  months?: number;
  /** Default: now − 1 h, like Atlas. */
  notBefore?: Date;
  notAfter?: Date;
}

export interface DbUser {
  username: string;
  databaseName: DatabaseName;
  x509Type: X509Type;
}

export interface Project {
  groupId: string;
  customerCaPem: string | undefined;
  users: Map<string, DbUser>;
  ca: Promise<ProjectCa> | undefined;
}

export interface CertRecord {
  serial: bigint;
  notBefore: Date;
  notAfter: Date;
  subject: string;
  mintedAt: Date;
}

export interface CertSpec {
  commonName: string;
  notBefore: Date;
  notAfter: Date;
}

export interface NonceState {
  issuedAtMs: number;
  /** Highest `nc` accepted so far; 0 while unused. */
  lastNc: number;
}

export interface AccessToken {
  clientId: string;
  expiresAtMs: number;
}

export interface RequestContext {
  method: string;
  /** Path and query exactly as received: what a Digest `uri` must equal. */
  rawUrl: string;
  rawPath: string;
  decodedPath: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  entry: RecordedRequest;
}

export type AuthOutcome =
  | { ok: true; method: AuthMethod; clientId?: string }
  | { ok: false; response: SimResponse };

/** What happens on the wire once the simulator has decided. */
export type Delivery =
  | { kind: 'respond'; response: SimResponse }
  | { kind: 'reset'; processed?: SimResponse }
  | { kind: 'hang'; ms: number | undefined; processed?: SimResponse };
