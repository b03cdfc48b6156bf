import type { Log } from '../log.js';
import type { ReplicaRegion, ReplicaStatus, ReplicaTag } from '../replicas.js';
import type { SecretState } from '../stored-value.js';

/**
 * What the rotation engine needs from the world, and nothing more. The real adapters (Atlas over
 * undici, Secrets Manager, DynamoDB) implement these; the in-memory fakes in `test/support/fakes`
 * implement them too, so every branch of the engine runs in a unit test.
 */

/** A certificate as Atlas lists it. */
export interface AtlasCertificate {
  /** Serial number in decimal, every digit kept (it exceeds 2^53). */
  serialNumber: string;
  /** Atlas reports the certificate's notBefore: the real creation time minus one hour. */
  createdAt: Date;
  notAfter: Date;
  /** `CN=<username>` */
  subject: string;
  groupId: string;
}

/** The fields of an Atlas database user that decide whether it can get managed certificates. */
export interface AtlasDatabaseUser {
  username: string;
  databaseName: string;
  x509Type: 'NONE' | 'CUSTOMER' | 'MANAGED';
  groupId: string;
}

/**
 * Atlas's certificate endpoints. `createCertificate` is not idempotent: it throws a
 * `CreateOutcomeUnknownError` when it may have minted, and a `DeadlineError` when waiting for a
 * retry would pass the run's deadline or start an attempt after `startBy` (both in
 * `domain/errors.ts`).
 */
export interface CreateOptions {
  /**
   * Epoch ms after which no attempt may start (a throttled create is retried until then): an
   * attempt started later might not leave time to store its key. One already sent is never cut.
   */
  startBy?: number;
}

export interface AtlasPort {
  listCertificates(projectId: string, username: string): Promise<AtlasCertificate[]>;
  /** The PEM bundle (certificate and private key) of a new certificate: returned once. */
  createCertificate(
    projectId: string,
    username: string,
    months: number,
    options?: CreateOptions,
  ): Promise<string>;
  listDatabaseUsers(projectId: string): Promise<AtlasDatabaseUser[]>;
  /**
   * Whether the project has a customer CA (self-managed X.509), under which Atlas refuses to
   * create managed certificates; undefined when the credential may not read it (401/403: the
   * endpoint needs Project Owner).
   */
  customerCaConfigured(projectId: string): Promise<boolean | undefined>;
}

export interface CreateSecretOptions {
  kmsKeyId: string | undefined;
  projectId: string;
  username: string;
  /** Created with these replicas (AddReplicaRegions), recorded in the replicas tag. */
  replicaRegions?: readonly ReplicaRegion[] | undefined;
}

/** Tags the rotator keeps on a secret beside its value (the adapter names the keys). */
export interface RotatorTags {
  /** The held certificate's expiry (`SecretState.notAfterHint`). */
  notAfter?: Date | undefined;
  /** The hash of the resource policy last put (`SecretState.policyTag`). */
  policy?: string | undefined;
  /** The replicas tag (`SecretState.replicaTag`). */
  replicas?: ReplicaTag | undefined;
  /** When the rotator promoted a version (`SecretState.ownAccess`). */
  ownAccess?: Date | undefined;
  /** The requests tag's value (`SecretState.servedRequests`, `served.ts`). */
  requests?: string | undefined;
}

/** The certificate secrets: one per user, versions labelled AWSCURRENT / AWSPENDING. */
export interface SecretStorePort {
  /** The secret's metadata and current value, or undefined when it does not exist. */
  read(
    name: string,
    owner: { projectId: string; username: string },
  ): Promise<SecretState | undefined>;
  /** Metadata (no values) of every secret under `prefix`. */
  index(prefix: string): Promise<Map<string, SecretState>>;
  /** The pending version's value. */
  readPending(state: SecretState): Promise<string | undefined>;
  /** Creates an empty secret; one another run created meanwhile is returned as it is. */
  create(name: string, options: CreateSecretOptions): Promise<SecretState>;
  /** Stores a value: AWSCURRENT into an empty secret, else AWSPENDING. Returns the version id. */
  put(state: SecretState, value: string, serialNumber: string): Promise<string>;
  /** Moves AWSCURRENT to `versionId` (and drops its AWSPENDING). */
  promote(state: SecretState, versionId: string): Promise<void>;
  /**
   * Records the current certificate's expiry for ordering, and with `policy` the policy tag, in
   * one write; best effort. With `ownAccess`, the own-access tag (after a promotion).
   */
  tagNotAfter(
    state: SecretState,
    notAfter: Date,
    policy?: string,
    ownAccess?: Date,
  ): Promise<boolean>;
  /** The secret's resource policy document, or undefined when it has none. */
  readPolicy(state: SecretState): Promise<string | undefined>;
  /** Puts `document` as the secret's resource policy; undefined removes the policy. */
  putPolicy(state: SecretState, document: string | undefined): Promise<void>;
  /** Writes the given rotator tags in one write; throws when refused. */
  tag(state: SecretState, tags: RotatorTags): Promise<void>;
  /** Records the orphan serials reported so far (`orphansSeen` next time); best effort. */
  tagOrphans(
    secret: Pick<SecretState, 'name' | 'arn'>,
    serials: readonly string[],
  ): Promise<boolean>;
  /** Removes AWSPENDING from `versionId`. */
  dropPending(state: SecretState, versionId: string): Promise<void>;
  /** Every replica of the secret and its status (DescribeSecret). */
  replicationStatus(state: SecretState): Promise<ReplicaStatus[]>;
  /**
   * Replicates the secret to `regions` (ReplicateSecretToRegions, paced with the value writes,
   * whose quota it shares); returns every replica's status.
   */
  replicate(state: SecretState, regions: readonly ReplicaRegion[]): Promise<ReplicaStatus[]>;
  /**
   * Deletes, without a recovery window, a secret this rotator created that holds no version:
   * false (and nothing changed) when it holds one or is not the rotator's.
   */
  removeEmpty(state: SecretState): Promise<boolean>;
}

/** Either way, `expiresAt` is when the lease lapses: ours, or the other holder's. */
export type LeaseResult =
  | { acquired: true; expiresAt: Date }
  | { acquired: false; owner: string; expiresAt: Date };

/** Per-user leases, so overlapping runs never mint for the same user at once. */
export interface LeasePort {
  /** Throws a run-scoped error when the lease table is missing or unreachable. */
  check(): Promise<void>;
  acquire(key: string): Promise<LeaseResult>;
  release(key: string): Promise<void>;
}

/** A login check: where to connect, and the certificate to present there. */
export interface LoginCheckRequest {
  /** The project's `verify.uri` (validated: no credentials in it). */
  uri: string;
  /** PEM blocks, handed to TLS from memory: nothing is written to disk. */
  certificate: string;
  privateKey: string;
  /** All of the check, connection and `ping` included: it never holds the run past its deadline. */
  timeoutMs: number;
}

/** `reason`: the driver's words, cut short, never key material. */
export type LoginCheckResult = { ok: true } | { ok: false; reason: string };

/**
 * Proves a certificate can log in before applications get it: authenticate with MONGODB-X509
 * on `$external`, then `ping` (the `mongodb` driver, `adapters/mongodb/login-check.ts`). Never
 * throws: every failure is a result.
 */
export interface LoginCheckPort {
  check(request: LoginCheckRequest): Promise<LoginCheckResult>;
}

/** Time, so tests can run a whole run's waiting in microseconds. */
export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
};

export type { Log };

/**
 * Users in flight, paced by the rate limit of the bucket each user's project draws on (the
 * Atlas adapter's pacing). @default every user under `rotation.concurrency`, never paused
 */
export interface UserPace {
  /** Runs one user's work when its bucket and the run have room for it. */
  run<T>(projectId: string, work: () => Promise<T>): Promise<T>;
  /** Atlas asked this project's bucket for a long pause: new users wait for the next run. */
  paused(projectId: string): boolean;
}
