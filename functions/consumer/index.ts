/**
 * `atlas-x509-rotator/consumer`: a MongoDB client that follows the rotated certificate. No
 * driver reloads a client certificate by itself, so this holds one `MongoClient` per
 * certificate: on a new `AWSCURRENT` version it logs in with the new one first (`ping`),
 * switches, and closes the old client once its in-flight operations are done. A refresh that
 * fails keeps the working client and says why (docs/consumers.md).
 *
 * One self-contained file on purpose: one declaration file serves ESM and CommonJS
 * (scripts/build-consumer.ts). Peers: the application's `mongodb` and Secrets Manager client.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MongoClient, type MongoClientOptions } from 'mongodb';

/** The fields of the rotator's secret a client needs (the secret holds a few more). */
export interface CertificateBundle {
  /** PEM of the client certificate. */
  certificate: string;
  /** PEM of its private key. */
  privateKey: string;
  /** Decimal serial, as Atlas and the rotator's reports print it. */
  serialNumber: string;
  notAfter: Date;
  /** Informative only. */
  username?: string;
  projectId?: string;
}

/** A secret value that is not a certificate bundle. Its message names fields, never values. */
export class CertificateBundleError extends Error {
  override readonly name = 'CertificateBundleError';
  constructor(
    readonly secretId: string,
    /** The missing or invalid field, or `SecretString` when the value is not JSON at all. */
    readonly field: string,
    problem: string,
  ) {
    super(`secret ${secretId}: ${field} ${problem}`);
  }
}

const fail = (secretId: string, field: string, problem: string): never => {
  throw new CertificateBundleError(secretId, field, problem);
};

const textField = (secretId: string, json: Record<string, unknown>, field: string): string => {
  const value = json[field];
  if (value === undefined) fail(secretId, field, 'is missing');
  if (typeof value !== 'string' || value.length === 0) {
    fail(secretId, field, 'is not a non-empty string');
  }
  return value as string;
};

/**
 * Validates a secret's `SecretString` as the rotator's certificate bundle: a certificate and
 * the private key that belongs to it, a decimal serial and an expiry. Throws
 * `CertificateBundleError`; nothing of the value is ever quoted.
 */
export const parseCertificateBundle = (
  secretId: string,
  secretString: string | undefined,
): CertificateBundle => {
  if (secretString === undefined) fail(secretId, 'SecretString', 'is absent (a binary secret?)');
  let json: unknown;
  try {
    json = JSON.parse(secretString as string);
  } catch {
    // JSON.parse quotes the text it failed on: not repeated here, it may be a key.
    fail(secretId, 'SecretString', 'is not JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    fail(secretId, 'SecretString', 'is not a JSON object');
  }
  const fields = json as Record<string, unknown>;
  const certificate = textField(secretId, fields, 'certificate');
  const privateKey = textField(secretId, fields, 'privateKey');
  const serialNumber = textField(secretId, fields, 'serialNumber');
  const notAfterText = textField(secretId, fields, 'notAfter');
  if (!/^[1-9][0-9]*$/.test(serialNumber))
    fail(secretId, 'serialNumber', 'is not a decimal serial');
  const notAfter = new Date(notAfterText);
  if (Number.isNaN(notAfter.getTime())) fail(secretId, 'notAfter', 'is not a date');
  let x509: X509Certificate | undefined;
  try {
    x509 = new X509Certificate(certificate);
  } catch {
    fail(secretId, 'certificate', 'is not a PEM certificate');
  }
  let key: ReturnType<typeof createPrivateKey> | undefined;
  try {
    key = createPrivateKey(privateKey);
  } catch {
    fail(secretId, 'privateKey', 'is not a PEM private key');
  }
  if (!x509?.checkPrivateKey(key as ReturnType<typeof createPrivateKey>)) {
    fail(secretId, 'privateKey', 'does not belong to the certificate');
  }
  const optional = (field: string): string | undefined =>
    typeof fields[field] === 'string' ? (fields[field] as string) : undefined;
  return {
    certificate,
    privateKey,
    serialNumber,
    notAfter,
    username: optional('username'),
    projectId: optional('projectId'),
  };
};

/**
 * Why a refresh did not switch (the client in use stays): GetSecretValue failed, AWSCURRENT is
 * not a certificate bundle, or the new certificate did not log in (TLS refused, unknown user,
 * server unreachable).
 */
export type RefreshFailureReason = 'unreadable' | 'invalid-value' | 'refused';

export interface RefreshFailure {
  reason: RefreshFailureReason;
  /** The error's message (never key material: see `CertificateBundleError`). */
  message: string;
  error: unknown;
  /** The serial the new version holds, when it was read. */
  serialNumber?: string;
  at: Date;
}

export type RefreshResult =
  | { outcome: 'unchanged'; serialNumber: string }
  | { outcome: 'switched'; serialNumber: string; previousSerialNumber: string }
  | ({ outcome: 'failed' } & RefreshFailure);

export interface SwitchInfo {
  serialNumber: string;
  previousSerialNumber: string;
  notAfter: Date;
  versionId: string | undefined;
}

export interface ConsumerStatus {
  /** The certificate the current client logs in with. */
  serialNumber: string;
  notAfter: Date;
  versionId: string | undefined;
  /** When the current client was put in use. */
  since: Date;
  lastCheckedAt: Date;
  /** The last refresh's failure, cleared by the next refresh that reads the secret fine. */
  lastFailure: RefreshFailure | undefined;
  /** Old clients still finishing their operations. */
  draining: number;
}

export interface AtlasX509ClientOptions {
  /** Name or ARN of the certificate secret (a replica's ARN in another Region works too). */
  secretId: string;
  /** The cluster's connection string, without credentials (TLS and MONGODB-X509 are set here). */
  uri: string;
  /** @default new SecretsManagerClient({}) */
  secrets?: SecretsManagerClient;
  /**
   * How often to look for a new `AWSCURRENT` version, in ms; 0 polls never (call `refresh()`,
   * e.g. on the `Atlas X509 Certificate Rotated` event). Each poll is one GetSecretValue.
   * @default 3_600_000 (an hour: the old certificate stays valid in Atlas for weeks)
   */
  refreshIntervalMs?: number;
  /** Driver options for every client (pool sizes, timeouts, `tlsCAFile`…), but the login's. */
  driverOptions?: Omit<MongoClientOptions, 'cert' | 'key' | 'authMechanism' | 'auth'>;
  /** How long (ms) an old client may finish its operations after a switch. @default 60_000 */
  drainTimeoutMs?: number;
  onSwitch?: (info: SwitchInfo) => void;
  /** A refresh failed: the current client stays in use. */
  onRefreshFailed?: (failure: RefreshFailure) => void;
}

interface Held {
  client: MongoClient;
  bundle: CertificateBundle;
  versionId: string | undefined;
  /** Operations pinned by `withClient` plus connections checked out (or being checked out). */
  inUse: number;
}

/** Operations issued on a stale reference right after a switch reach the pool within this. */
const SWITCH_GRACE_MS = 250;

export class AtlasX509Client {
  private held: Held;
  private since = new Date();
  private lastCheckedAt = new Date();
  private lastFailure: RefreshFailure | undefined;
  private readonly draining = new Set<Promise<void>>();
  private refreshing: Promise<RefreshResult> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly options: AtlasX509ClientOptions,
    private readonly secrets: SecretsManagerClient,
    first: Held,
  ) {
    this.held = first;
  }

  /**
   * Reads the secret, logs in and pings with its certificate, and starts polling. Throws when
   * any of that fails (`CertificateBundleError` for a value that is not a bundle): there is no
   * working client to keep yet.
   */
  static async connect(options: AtlasX509ClientOptions): Promise<AtlasX509Client> {
    const secrets = options.secrets ?? new SecretsManagerClient({});
    const read = await readCurrent(secrets, options.secretId);
    const held = await openChecked(options, read.bundle, read.versionId);
    const consumer = new AtlasX509Client(options, secrets, held);
    const every = options.refreshIntervalMs ?? 3_600_000;
    if (every > 0) {
      consumer.timer = setInterval(() => void consumer.refresh(), every);
      // Polling alone never keeps the application alive.
      consumer.timer.unref();
    }
    return consumer;
  }

  /**
   * The client for the current certificate. Take it per unit of work rather than keeping it:
   * after a switch the old one is closed once its checked-out connections are back. For work
   * that spans several round trips (a cursor, a transaction) use `withClient`.
   */
  get client(): MongoClient {
    if (this.closed) throw new Error('AtlasX509Client is closed');
    return this.held.client;
  }

  /** Runs `work` with the current client, which stays open until `work` settles. */
  async withClient<T>(work: (client: MongoClient) => Promise<T>): Promise<T> {
    const held = this.held;
    if (this.closed) throw new Error('AtlasX509Client is closed');
    held.inUse += 1;
    try {
      return await work(held.client);
    } finally {
      held.inUse -= 1;
    }
  }

  get status(): ConsumerStatus {
    return {
      serialNumber: this.held.bundle.serialNumber,
      notAfter: this.held.bundle.notAfter,
      versionId: this.held.versionId,
      since: this.since,
      lastCheckedAt: this.lastCheckedAt,
      lastFailure: this.lastFailure,
      draining: this.draining.size,
    };
  }

  /**
   * Reads `AWSCURRENT`; on a new certificate, logs in with it and switches. Never throws and
   * never leaves the application without the client it had: a failure is the result, the
   * `onRefreshFailed` callback and `status.lastFailure`. Concurrent calls share one refresh.
   */
  refresh(): Promise<RefreshResult> {
    this.refreshing ??= this.refreshOnce().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Stops polling and closes every client, after their in-flight operations (bounded). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.refreshing;
    await Promise.all([this.drain(this.held, 0), ...this.draining]);
  }

  private async refreshOnce(): Promise<RefreshResult> {
    const failed = (failure: Omit<RefreshFailure, 'at' | 'message'>): RefreshResult => {
      const full: RefreshFailure = {
        ...failure,
        message: failure.error instanceof Error ? failure.error.message : String(failure.error),
        at: new Date(),
      };
      this.lastFailure = full;
      this.options.onRefreshFailed?.(full);
      return { outcome: 'failed', ...full };
    };
    this.lastCheckedAt = new Date();
    let read: { bundle: CertificateBundle; versionId: string | undefined };
    try {
      read = await readCurrent(this.secrets, this.options.secretId);
    } catch (error) {
      return failed({
        reason: error instanceof CertificateBundleError ? 'invalid-value' : 'unreadable',
        error,
      });
    }
    const current = this.held;
    if (read.bundle.serialNumber === current.bundle.serialNumber || this.closed) {
      this.lastFailure = undefined;
      return { outcome: 'unchanged', serialNumber: current.bundle.serialNumber };
    }
    let next: Held;
    try {
      next = await openChecked(this.options, read.bundle, read.versionId);
    } catch (error) {
      return failed({ reason: 'refused', error, serialNumber: read.bundle.serialNumber });
    }
    if (this.closed) {
      await next.client.close();
      return { outcome: 'unchanged', serialNumber: current.bundle.serialNumber };
    }
    this.held = next;
    this.since = new Date();
    this.lastFailure = undefined;
    const drained = this.drain(current, SWITCH_GRACE_MS).finally(() =>
      this.draining.delete(drained),
    );
    this.draining.add(drained);
    const info: SwitchInfo = {
      serialNumber: next.bundle.serialNumber,
      previousSerialNumber: current.bundle.serialNumber,
      notAfter: next.bundle.notAfter,
      versionId: next.versionId,
    };
    this.options.onSwitch?.(info);
    return {
      outcome: 'switched',
      serialNumber: info.serialNumber,
      previousSerialNumber: info.previousSerialNumber,
    };
  }

  /**
   * Closes a client once nothing uses it: `MongoClient.close()` kills checked-out connections,
   * so closing at once would fail the operations still running on the old certificate.
   */
  private async drain(held: Held, graceMs: number): Promise<void> {
    const deadline = Date.now() + (this.options.drainTimeoutMs ?? 60_000);
    await sleep(graceMs);
    while (held.inUse > 0 && Date.now() < deadline) await sleep(25);
    await held.client.close().catch(() => undefined);
  }
}

const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref());

const readCurrent = async (
  secrets: SecretsManagerClient,
  secretId: string,
): Promise<{ bundle: CertificateBundle; versionId: string | undefined }> => {
  const got = await secrets.send(
    new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }),
  );
  return { bundle: parseCertificateBundle(secretId, got.SecretString), versionId: got.VersionId };
};

/** A connected client for `bundle`, proved by a `ping` after the X.509 login; closed on failure. */
const openChecked = async (
  options: AtlasX509ClientOptions,
  bundle: CertificateBundle,
  versionId: string | undefined,
): Promise<Held> => {
  const client = new MongoClient(options.uri, {
    serverSelectionTimeoutMS: 10_000,
    ...options.driverOptions,
    tls: true,
    // In memory only: the driver hands these to Node's TLS stack; nothing is written to disk.
    cert: bundle.certificate,
    key: bundle.privateKey,
    authMechanism: 'MONGODB-X509',
    authSource: '$external',
  });
  const held: Held = { client, bundle, versionId, inUse: 0 };
  // Every checkout either fails or is checked in: in between, an operation holds a connection.
  client.on('connectionCheckOutStarted', () => {
    held.inUse += 1;
  });
  client.on('connectionCheckOutFailed', () => {
    held.inUse -= 1;
  });
  client.on('connectionCheckedIn', () => {
    held.inUse -= 1;
  });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  return held;
};
