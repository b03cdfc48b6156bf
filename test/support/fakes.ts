import pLimit from 'p-limit';
import { beforeAll } from 'vitest';
import { parseConfig, type RawConfig, type RotatorConfig } from '../../functions/domain/config.js';
import { CreateOutcomeUnknownError, RotatorError } from '../../functions/domain/errors.js';
import type { Log } from '../../functions/domain/log.js';
import { DAY_MS, HOUR_MS } from '../../functions/domain/renewal.js';
import {
  parseReplicaTag,
  type ReplicaRegion,
  type ReplicaStatus,
  replicaTagValue,
} from '../../functions/domain/replicas.js';
import type { RunReport, UserReport } from '../../functions/domain/report.js';
import {
  type AtlasCertificate,
  type AtlasDatabaseUser,
  type AtlasPort,
  type Clock,
  type CreateOptions,
  type CreateSecretOptions,
  type LeasePort,
  type LeaseResult,
  type RotationContext,
  type RotationRequest,
  runRotation,
  type SecretStorePort,
  type UserRef,
} from '../../functions/domain/rotation/index.js';
import type { RotatorTags, UserPace } from '../../functions/domain/rotation/ports.js';
import { fixedPace } from '../../functions/domain/rotation/run-state.js';
import {
  CURRENT,
  labelsOf,
  orphansTagValue,
  PENDING,
  parseCurrentValue,
  parseOrphansTag,
  type SecretState,
  serializeStored,
  versionIdFor,
} from '../../functions/domain/stored-value.js';
import {
  addCalendarMonths,
  createProjectCa,
  generateRsaKeyPair,
  type MintedCertificate,
  mintCertificate,
  type ProjectCa,
  type RsaKeyPair,
  randomSerial,
  subjectFor,
  truncateToSeconds,
} from '../simulator/pki.js';

/**
 * In-memory stand-ins for the engine's ports (`functions/domain/rotation/ports.ts`), faithful
 * to the real adapters' semantics (Secrets Manager labels, DynamoDB lease conditions, Atlas's
 * backdated notBefore), with hooks to inject faults. Certificates are real: RSA keys come from a
 * small per-file pool, so only key generation costs time.
 */

export const P1 = '5e2211c17a3e5a48f5497de3';
export const P2 = '6a1f00aa00bb00cc00dd00ee';
/** Where every fake clock starts. */
export const T0 = new Date('2026-09-01T00:00:00.000Z');
export { DAY_MS, HOUR_MS };

// ---- calls and hooks -------------------------------------------------------------------------

type ArgsOf<F> = F extends (...args: infer A) => unknown ? A : never;
type Methods<P> = {
  [K in keyof P]-?: P[K] extends (...args: never[]) => unknown ? K : never;
}[keyof P] &
  string;

export interface HookOptions<A extends unknown[]> {
  /** How many matching calls the hook applies to. @default 1 */
  times?: number;
  /** Only calls whose arguments match. */
  when?: (...args: A) => boolean;
}

interface Hook {
  action: (...args: unknown[]) => unknown;
  when: ((...args: unknown[]) => boolean) | undefined;
  left: number;
}

/** Records every call of a fake and runs hooks before them: the fault injection all share. */
export class Calls<P> {
  readonly log: { method: Methods<P>; args: unknown[] }[] = [];
  private readonly hooks = new Map<string, Hook[]>();

  /** Runs `action` (which may throw) before the next matching calls of `method`. */
  on<K extends Methods<P>>(
    method: K,
    action: (...args: ArgsOf<P[K]>) => unknown,
    options: HookOptions<ArgsOf<P[K]>> = {},
  ): this {
    const hooks = this.hooks.get(method) ?? [];
    hooks.push({
      action: action as (...args: unknown[]) => unknown,
      when: options.when as ((...args: unknown[]) => boolean) | undefined,
      left: options.times ?? 1,
    });
    this.hooks.set(method, hooks);
    return this;
  }

  /** Makes the next matching calls of `method` throw `error`. */
  fail<K extends Methods<P>>(
    method: K,
    error: Error,
    options: HookOptions<ArgsOf<P[K]>> = {},
  ): this {
    return this.on(
      method,
      () => {
        throw error;
      },
      options,
    );
  }

  count<K extends Methods<P>>(method: K, when?: (...args: ArgsOf<P[K]>) => boolean): number {
    return this.log.filter(
      (c) => c.method === method && (!when || when(...(c.args as ArgsOf<P[K]>))),
    ).length;
  }

  /** Called first by every fake method: records the call, runs the first hook that is due. */
  async enter<K extends Methods<P>>(method: K, args: ArgsOf<P[K]>): Promise<void> {
    this.log.push({ method, args });
    const hook = this.hooks.get(method)?.find((h) => h.left > 0 && (h.when?.(...args) ?? true));
    if (!hook) return;
    hook.left -= 1;
    await hook.action(...args);
  }
}

// ---- clock and log ---------------------------------------------------------------------------

/** Time that moves only when told; `sleep` advances it at once, so waits cost nothing. */
export class FakeClock implements Clock {
  private ms: number;
  /** Milliseconds spent in `sleep`. */
  slept = 0;

  constructor(start: Date = T0) {
    this.ms = start.getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  set(date: Date): void {
    this.ms = date.getTime();
  }

  advance(ms: number): void {
    this.ms += ms;
  }

  sleep(ms: number): Promise<void> {
    this.slept += ms;
    this.advance(ms);
    return Promise.resolve();
  }
}

export interface LogEntry {
  level: keyof Log;
  message: string;
  attributes: Record<string, unknown>;
}

/** Keeps every log call, for assertions on warnings. */
export class RecordingLog implements Log {
  readonly entries: LogEntry[] = [];
  private add(level: keyof Log, message: string, attrs: Record<string, unknown>[]): void {
    this.entries.push({ level, message, attributes: Object.assign({}, ...attrs) });
  }
  debug(message: string, ...a: Record<string, unknown>[]): void {
    this.add('debug', message, a);
  }
  info(message: string, ...a: Record<string, unknown>[]): void {
    this.add('info', message, a);
  }
  warn(message: string, ...a: Record<string, unknown>[]): void {
    this.add('warn', message, a);
  }
  error(message: string, ...a: Record<string, unknown>[]): void {
    this.add('error', message, a);
  }
  messages(level: keyof Log): string[] {
    return this.entries.filter((e) => e.level === level).map((e) => e.message);
  }
}

// ---- PKI and Atlas ---------------------------------------------------------------------------

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

export interface FakeCertificate extends AtlasCertificate {
  minted: MintedCertificate;
  /** List calls still to come that leave it out: Atlas's list lagging behind a create. */
  hiddenFor: number;
}

/** What the next create does instead of answering normally. */
export type CreateFault =
  /**
   * The response was lost: the outcome is unknown; `minted` says whether Atlas minted, and
   * `hiddenFor` for how many list calls its list then leaves the new serial out.
   */
  | { kind: 'unknown'; minted: boolean; hiddenFor?: number }
  /** Atlas minted and answered 2xx with a body that is no PEM bundle. */
  | { kind: 'garbage' }
  /** Atlas minted, but its list leaves the new serial out for the next `lists` list calls. */
  | { kind: 'unlisted'; lists: number };

export const createOutcomeUnknown = (): CreateOutcomeUnknownError =>
  new CreateOutcomeUnknownError('POST certs: the outcome is unknown (socket hang up)', {
    code: 'CREATE_OUTCOME_UNKNOWN',
    remedy: 'list the certificates again and compare serial numbers before creating another',
  });

const userKey = (projectId: string, username: string): string => `${projectId}/${username}`;

export class FakeAtlas implements AtlasPort {
  readonly calls = new Calls<AtlasPort>();
  /** Certificates minted by `createCertificate`, in order. */
  readonly created: FakeCertificate[] = [];
  /** The `startBy` each create was given, in order. */
  readonly startBys: (number | undefined)[] = [];
  private readonly certs = new Map<string, FakeCertificate[]>();
  private readonly users = new Map<string, AtlasDatabaseUser[]>();
  private readonly createFaults: CreateFault[] = [];
  private readonly customerCas = new Map<string, { readable: boolean }>();
  private readonly cas = new Map<string, Promise<ProjectCa>>();
  private nextKey = 0;

  constructor(
    private readonly clock: FakeClock,
    private readonly pki: TestPki,
  ) {}

  async listCertificates(projectId: string, username: string): Promise<AtlasCertificate[]> {
    await this.calls.enter('listCertificates', [projectId, username]);
    const now = this.clock.now();
    const visible: AtlasCertificate[] = [];
    for (const cert of this.certificates(projectId, username)) {
      if (cert.notAfter <= now) continue;
      if (cert.hiddenFor > 0) {
        cert.hiddenFor -= 1;
        continue;
      }
      const { serialNumber, createdAt, notAfter, subject, groupId } = cert;
      visible.push({ serialNumber, createdAt: new Date(createdAt), notAfter, subject, groupId });
    }
    return visible;
  }

  async createCertificate(
    projectId: string,
    username: string,
    months: number,
    options: CreateOptions = {},
  ): Promise<string> {
    await this.calls.enter('createCertificate', [projectId, username, months]);
    this.startBys.push(options.startBy);
    this.refuseLikeAtlas(projectId, username);
    const fault = this.createFaults.shift();
    const start = truncateToSeconds(this.clock.now());
    // Atlas backdates notBefore by an hour and lists it as createdAt.
    const dates = {
      notBefore: new Date(start.getTime() - HOUR_MS),
      notAfter: addCalendarMonths(start, months),
    };
    if (fault?.kind === 'unknown') {
      if (fault.minted) {
        const hiddenFor = fault.hiddenFor ?? 0;
        this.created.push(await this.seed(projectId, username, dates, { hiddenFor }));
      }
      throw createOutcomeUnknown();
    }
    const hidden = fault?.kind === 'unlisted' ? fault.lists : 0;
    const cert = await this.seed(projectId, username, dates, { hiddenFor: hidden });
    this.created.push(cert);
    return fault?.kind === 'garbage'
      ? '<html><body>502 Bad Gateway</body></html>\n'
      : cert.minted.pem;
  }

  async listDatabaseUsers(projectId: string): Promise<AtlasDatabaseUser[]> {
    await this.calls.enter('listDatabaseUsers', [projectId]);
    return [...(this.users.get(projectId) ?? [])];
  }

  async customerCaConfigured(projectId: string): Promise<boolean | undefined> {
    await this.calls.enter('customerCaConfigured', [projectId]);
    const ca = this.customerCas.get(projectId);
    return ca && !ca.readable ? undefined : ca !== undefined;
  }

  /** A customer CA on the project: creates are refused; `readable: false` as for a 403 on it. */
  setCustomerCa(projectId: string, options: { readable?: boolean } = {}): this {
    this.customerCas.set(projectId, { readable: options.readable ?? true });
    return this;
  }

  /** Atlas's refusals before minting (a user it lists as not MANAGED, a customer CA). */
  private refuseLikeAtlas(projectId: string, username: string): void {
    const user = this.users.get(projectId)?.find((u) => u.username === username);
    const refusal =
      user && user.x509Type !== 'MANAGED'
        ? 'USER_NOT_MANAGED_X509'
        : this.customerCas.has(projectId)
          ? 'CANNOT_GENERATE_CERT_IF_ADVANCED_X509'
          : undefined;
    if (refusal) {
      throw new RotatorError(`Atlas POST certs failed: 400 ${refusal}`, {
        code: refusal,
        remedy: 'as Atlas says',
      });
    }
  }

  /** Queues what the next create does (one fault per create). */
  nextCreate(...faults: CreateFault[]): this {
    this.createFaults.push(...faults);
    return this;
  }

  addUser(
    projectId: string,
    username: string,
    x509Type: AtlasDatabaseUser['x509Type'] = 'MANAGED',
  ): this {
    const users = this.users.get(projectId) ?? [];
    users.push({ username, databaseName: '$external', x509Type, groupId: projectId });
    this.users.set(projectId, users);
    return this;
  }

  /**
   * Mints a real certificate with the given dates; Atlas lists it unless `recorded` is false
   * (a certificate Atlas does not know, e.g. of a deleted user).
   */
  async seed(
    projectId: string,
    username: string,
    dates: CertDates,
    options: { recorded?: boolean; hiddenFor?: number; commonName?: string } = {},
  ): Promise<FakeCertificate> {
    const keys = this.pki.keys[this.nextKey++ % this.pki.keys.length] as RsaKeyPair;
    const minted = await mintCertificate({
      ca: await this.caFor(projectId),
      commonName: options.commonName ?? username,
      keys,
      serial: randomSerial(),
      ...dates,
    });
    const cert: FakeCertificate = {
      serialNumber: minted.serialNumber,
      createdAt: dates.notBefore,
      notAfter: dates.notAfter,
      subject: subjectFor(username),
      groupId: projectId,
      minted,
      hiddenFor: options.hiddenFor ?? 0,
    };
    if (options.recorded !== false) {
      const key = userKey(projectId, username);
      this.certs.set(key, [...(this.certs.get(key) ?? []), cert]);
    }
    return cert;
  }

  /**
   * Lists an already minted certificate for another user as well, without minting: a cheap
   * population for tests of what many steady-state users cost (nothing validates it then).
   */
  alsoList(projectId: string, username: string, cert: FakeCertificate): void {
    const key = userKey(projectId, username);
    this.certs.set(key, [
      ...(this.certs.get(key) ?? []),
      { ...cert, subject: subjectFor(username) },
    ]);
  }

  /** Every recorded certificate of a user, expired and hidden ones included. */
  certificates(projectId: string, username: string): FakeCertificate[] {
    return this.certs.get(userKey(projectId, username)) ?? [];
  }

  private caFor(projectId: string): Promise<ProjectCa> {
    let ca = this.cas.get(projectId);
    if (!ca) {
      ca = createProjectCa(this.pki.keys[0] as RsaKeyPair, this.clock.now());
      this.cas.set(projectId, ca);
    }
    return ca;
  }
}

// ---- Secrets Manager -------------------------------------------------------------------------

const PREVIOUS = 'AWSPREVIOUS';
const NOT_AFTER_TAG = 'atlas-x509-rotator:not-after';
const ORPHANS_TAG = 'atlas-x509-rotator:orphans';
const POLICY_TAG = 'atlas-x509-rotator:policy';
const REPLICAS_TAG = 'atlas-x509-rotator:replicas';

export interface FakeVersion {
  id: string;
  value: string | undefined;
  stages: string[];
  /** When the version was stored (GetSecretValue's CreatedDate). */
  createdDate: Date;
}

export interface FakeSecret {
  name: string;
  arn: string;
  createdDate: Date;
  deletedDate: Date | undefined;
  kmsKeyId: string | undefined;
  /** Every version, labelled or not, oldest first. */
  versions: FakeVersion[];
  tags: Map<string, string>;
  /** The resource policy document, if any. */
  policy?: string | undefined;
  /** Replica Region → its status (values are the primary's: only the status is modelled). */
  replicas?: Map<string, ReplicaStatus>;
}

/** A store failure shaped like the adapter's `SecretStoreError` (user-scoped). */
export const storeError = (code = 'SECRET_STORE_FAILED', what = 'PutSecretValue'): RotatorError =>
  new RotatorError(`Secrets Manager ${what} failed (ThrottlingException)`, {
    code,
    remedy: 'Retry the run; if it persists, check Secrets Manager health and quotas.',
  });

type Owner = { projectId: string; username: string; secretName: string };

export class FakeSecretStore implements SecretStorePort {
  readonly calls = new Calls<SecretStorePort>();
  readonly secrets = new Map<string, FakeSecret>();

  constructor(private readonly clock: FakeClock) {}

  async read(name: string, owner: Omit<Owner, 'secretName'>): Promise<SecretState | undefined> {
    await this.calls.enter('read', [name, owner]);
    return this.described(name, owner);
  }

  async index(prefix: string): Promise<Map<string, SecretState>> {
    await this.calls.enter('index', [prefix]);
    const found = new Map<string, SecretState>();
    for (const secret of this.secrets.values()) {
      if (secret.name.startsWith(prefix)) found.set(secret.name, stateOf(secret));
    }
    return found;
  }

  async readPending(state: SecretState): Promise<string | undefined> {
    await this.calls.enter('readPending', [state]);
    const version = this.must(state.name).versions.find(
      (v) => v.id === state.pendingVersionId && v.stages.includes(PENDING),
    );
    if (!version) throw storeError('SECRET_STORE_FAILED', 'GetSecretValue');
    return version.value;
  }

  async create(name: string, options: CreateSecretOptions): Promise<SecretState> {
    await this.calls.enter('create', [name, options]);
    const existing = this.secrets.get(name);
    // Secrets Manager refuses a name scheduled for deletion; a live one is another run's.
    if (existing?.deletedDate) throw storeError('SECRET_INVALID_STATE', 'CreateSecret');
    if (existing) return this.described(name, options) as SecretState;
    const secret = this.seedEmpty(name, {
      createdDate: new Date(this.clock.now().getTime() - 300_000),
    });
    secret.kmsKeyId = options.kmsKeyId;
    const regions = (options.replicaRegions ?? []).map((r) => r.region);
    if (regions.length > 0) {
      secret.replicas = new Map(regions.map((region) => [region, { region, status: 'InSync' }]));
      secret.tags.set(REPLICAS_TAG, replicaTagValue({ regions, verified: undefined }));
    }
    return stateOf(secret);
  }

  async put(state: SecretState, value: string, serialNumber: string): Promise<string> {
    await this.calls.enter('put', [state, value, serialNumber]);
    const secret = this.must(state.name);
    if (secret.deletedDate) throw storeError('SECRET_INVALID_STATE');
    const versionId = versionIdFor(serialNumber);
    const existing = secret.versions.find((v) => v.id === versionId);
    if (existing) {
      // Same token, same bytes: an idempotent retry. Different bytes: ResourceExistsException.
      if (existing.value !== value) throw storeError();
      return versionId;
    }
    const first = secret.versions.length === 0;
    secret.versions.push({ id: versionId, value, stages: [], createdDate: this.clock.now() });
    // The first version of a secret is AWSCURRENT whatever stage is asked for.
    moveStage(secret, first || !state.currentVersionId ? CURRENT : PENDING, versionId);
    return versionId;
  }

  async promote(state: SecretState, versionId: string): Promise<void> {
    await this.calls.enter('promote', [state, versionId]);
    const secret = this.must(state.name);
    const current = versionWith(secret, CURRENT);
    if (current !== versionId) {
      // RemoveFromVersionId must name the current version; a retry that already moved it is done.
      if (current !== state.currentVersionId || !secret.versions.some((v) => v.id === versionId)) {
        throw storeError('SECRET_STORE_FAILED', 'UpdateSecretVersionStage');
      }
      moveStage(secret, CURRENT, versionId);
    }
    removeStage(secret, PENDING, versionId);
  }

  async tagNotAfter(state: SecretState, notAfter: Date, policy?: string): Promise<boolean> {
    try {
      await this.calls.enter('tagNotAfter', [state, notAfter, policy]);
      this.must(state.name).tags.set(NOT_AFTER_TAG, notAfter.toISOString());
      if (policy !== undefined) this.must(state.name).tags.set(POLICY_TAG, policy);
      return true;
    } catch {
      return false;
    }
  }

  async tagOrphans(
    secret: Pick<SecretState, 'name' | 'arn'>,
    serials: readonly string[],
  ): Promise<boolean> {
    try {
      await this.calls.enter('tagOrphans', [secret, serials]);
      this.must(secret.name).tags.set(ORPHANS_TAG, orphansTagValue(serials));
      return true;
    } catch {
      return false;
    }
  }

  async readPolicy(state: SecretState): Promise<string | undefined> {
    await this.calls.enter('readPolicy', [state]);
    return this.must(state.name).policy;
  }

  async putPolicy(state: SecretState, document: string | undefined): Promise<void> {
    await this.calls.enter('putPolicy', [state, document]);
    this.must(state.name).policy = document;
  }

  async tag(state: SecretState, tags: RotatorTags): Promise<void> {
    await this.calls.enter('tag', [state, tags]);
    const secret = this.must(state.name);
    if (tags.notAfter) secret.tags.set(NOT_AFTER_TAG, tags.notAfter.toISOString());
    if (tags.policy !== undefined) secret.tags.set(POLICY_TAG, tags.policy);
    if (tags.replicas) secret.tags.set(REPLICAS_TAG, replicaTagValue(tags.replicas));
  }

  async replicationStatus(state: SecretState): Promise<ReplicaStatus[]> {
    await this.calls.enter('replicationStatus', [state]);
    return [...(this.must(state.name).replicas?.values() ?? [])].map((r) => ({ ...r }));
  }

  /** Like Secrets Manager: a Region already replicated to is refused (InvalidParameter). */
  async replicate(state: SecretState, regions: readonly ReplicaRegion[]): Promise<ReplicaStatus[]> {
    await this.calls.enter('replicate', [state, regions]);
    const secret = this.must(state.name);
    secret.replicas ??= new Map();
    if (regions.some((r) => secret.replicas?.has(r.region))) {
      throw storeError('REPLICA_REGION_REFUSED', 'ReplicateSecretToRegions');
    }
    for (const { region } of regions) secret.replicas.set(region, { region, status: 'InSync' });
    return [...secret.replicas.values()].map((r) => ({ ...r }));
  }

  async dropPending(state: SecretState, versionId: string): Promise<void> {
    await this.calls.enter('dropPending', [state, versionId]);
    removeStage(this.must(state.name), PENDING, versionId);
  }

  /** Like the adapter: only a secret with no version at all, labelled or not, goes. */
  async removeEmpty(state: SecretState): Promise<boolean> {
    await this.calls.enter('removeEmpty', [state]);
    const secret = this.secrets.get(state.name);
    if (!secret || secret.deletedDate || secret.versions.length > 0) return false;
    this.secrets.delete(state.name);
    return true;
  }

  // ---- inspection ----

  /** The version id carrying `stage`. */
  versionAt(name: string, stage: string = CURRENT): string | undefined {
    const secret = this.secrets.get(name);
    return secret ? versionWith(secret, stage) : undefined;
  }

  /** The serial of the certificate stored under `stage`, if the value is a stored certificate. */
  serialAt(name: string, stage: string = CURRENT): string | undefined {
    const id = this.versionAt(name, stage);
    const value = this.secrets.get(name)?.versions.find((v) => v.id === id)?.value;
    try {
      const parsed: unknown = JSON.parse(value ?? '');
      const serial = (parsed as { serialNumber?: unknown }).serialNumber;
      return typeof serial === 'string' ? serial : undefined;
    } catch {
      return undefined;
    }
  }

  /** Labelled versions: id → stages. */
  labels(name: string): Record<string, string[]> {
    const versions = this.secrets.get(name)?.versions ?? [];
    return Object.fromEntries(versions.filter((v) => v.stages.length).map((v) => [v.id, v.stages]));
  }

  notAfterTag(name: string): string | undefined {
    return this.secrets.get(name)?.tags.get(NOT_AFTER_TAG);
  }

  orphansTag(name: string): string | undefined {
    return this.secrets.get(name)?.tags.get(ORPHANS_TAG);
  }

  policyTag(name: string): string | undefined {
    return this.secrets.get(name)?.tags.get(POLICY_TAG);
  }

  replicasTag(name: string): string | undefined {
    return this.secrets.get(name)?.tags.get(REPLICAS_TAG);
  }

  /** Sets a replica's status, as Secrets Manager would after a failure or a slow copy. */
  setReplica(name: string, region: string, status: ReplicaStatus['status'], message?: string) {
    const secret = this.must(name);
    secret.replicas ??= new Map();
    secret.replicas.set(region, { region, status, message });
  }

  // ---- seeding ----

  seedEmpty(name: string, options: { createdDate?: Date } = {}): FakeSecret {
    const secret: FakeSecret = {
      name,
      arn: `arn:aws:secretsmanager:eu-west-1:111111111111:secret:${name}-AbCdEf`,
      createdDate: options.createdDate ?? this.clock.now(),
      deletedDate: undefined,
      kmsKeyId: undefined,
      versions: [],
      tags: new Map(),
    };
    this.secrets.set(name, secret);
    return secret;
  }

  /**
   * Stores a certificate as the rotator would: the value `serializeStored` writes, under the
   * version id of its serial, as AWSCURRENT (tagged with its expiry) or AWSPENDING.
   */
  seedCertificate(
    user: Owner,
    cert: MintedCertificate,
    options: { stage?: string; createdDate?: Date; versionId?: string } = {},
  ): FakeSecret {
    const stage = options.stage ?? CURRENT;
    const secret = this.seedValue(user.secretName, serializeStored(user, cert), {
      stage,
      versionId: options.versionId ?? versionIdFor(cert.serialNumber),
      createdDate: options.createdDate ?? cert.notBefore,
    });
    if (stage === CURRENT) secret.tags.set(NOT_AFTER_TAG, cert.notAfter.toISOString());
    return secret;
  }

  /** Any value (e.g. one this rotator did not write) under `versionId`, carrying `stage`. */
  seedValue(
    name: string,
    value: string | undefined,
    options: { stage?: string; versionId?: string; createdDate?: Date } = {},
  ): FakeSecret {
    const secret = this.secrets.get(name) ?? this.seedEmpty(name, options);
    const id = options.versionId ?? `v-${secret.versions.length + 1}`;
    const existing = secret.versions.find((v) => v.id === id);
    if (existing) existing.value = value;
    else {
      const createdDate = options.createdDate ?? this.clock.now();
      secret.versions.push({ id, value, stages: [], createdDate });
    }
    moveStage(secret, options.stage ?? CURRENT, id);
    return secret;
  }

  scheduleDeletion(name: string, at: Date = this.clock.now()): void {
    this.must(name).deletedDate = at;
  }

  private described(name: string, owner: Omit<Owner, 'secretName'>): SecretState | undefined {
    const secret = this.secrets.get(name);
    if (!secret) return undefined;
    const state = stateOf(secret);
    if (state.deletedDate || !state.currentVersionId) return state;
    const current = secret.versions.find((v) => v.id === state.currentVersionId);
    return {
      ...state,
      current: parseCurrentValue(current?.value, owner),
      currentCreatedDate: current?.createdDate,
      replication: [...(secret.replicas?.values() ?? [])].map((r) => ({ ...r })),
    };
  }

  private must(name: string): FakeSecret {
    const secret = this.secrets.get(name);
    if (!secret) throw storeError('SECRET_STORE_FAILED', 'ResourceNotFoundException');
    return secret;
  }
}

const versionWith = (secret: FakeSecret, stage: string): string | undefined =>
  secret.versions.find((v) => v.stages.includes(stage))?.id;

const removeStage = (secret: FakeSecret, stage: string, versionId?: string): void => {
  for (const v of secret.versions) {
    if (versionId === undefined || v.id === versionId)
      v.stages = v.stages.filter((s) => s !== stage);
  }
};

/** Moves a label to `versionId`; moving AWSCURRENT leaves AWSPREVIOUS on the old current. */
const moveStage = (secret: FakeSecret, stage: string, versionId: string): void => {
  const old = versionWith(secret, stage);
  if (old === versionId) return;
  removeStage(secret, stage);
  if (stage === CURRENT && old) {
    removeStage(secret, PREVIOUS);
    secret.versions.find((v) => v.id === old)?.stages.push(PREVIOUS);
  }
  secret.versions.find((v) => v.id === versionId)?.stages.push(stage);
};

/** What DescribeSecret / ListSecrets tell: labelled versions only, no value. */
const stateOf = (secret: FakeSecret): SecretState => {
  const labelled = secret.versions.filter((v) => v.stages.length > 0);
  const tagged = secret.tags.get(NOT_AFTER_TAG);
  const versions = new Map(labelled.map((v) => [v.id, [...v.stages] as readonly string[]]));
  return {
    name: secret.name,
    arn: secret.arn,
    createdDate: secret.createdDate,
    deletedDate: secret.deletedDate,
    versions,
    ...labelsOf(versions),
    current: undefined,
    notAfterHint: tagged ? new Date(tagged) : undefined,
    orphansSeen: parseOrphansTag(secret.tags.get(ORPHANS_TAG)),
    policyTag: secret.tags.get(POLICY_TAG),
    replicaTag: parseReplicaTag(secret.tags.get(REPLICAS_TAG)),
  };
};

// ---- leases ----------------------------------------------------------------------------------

/** Run-scoped, like the adapter's `LeaseError` for a missing table. */
export const leaseTableMissing = (): RotatorError =>
  new RotatorError('Lease table atlas-x509-rotator-locks does not exist', {
    code: 'LEASE_TABLE_MISSING',
    remedy: 'Deploy the stack, or create the table.',
    scope: 'run',
  });

/** Leases with DynamoDB's condition: taken unless a live lease (anyone's) exists. */
export class FakeLeases implements LeasePort {
  readonly calls = new Calls<LeasePort>();
  readonly held = new Map<string, { owner: string; expiresAt: Date }>();
  /** Keys this run acquired, in order. */
  readonly taken: string[] = [];

  constructor(
    private readonly clock: FakeClock,
    readonly owner: string,
    private readonly leaseMs: number,
  ) {}

  async check(): Promise<void> {
    await this.calls.enter('check', []);
  }

  async acquire(key: string): Promise<LeaseResult> {
    await this.calls.enter('acquire', [key]);
    const now = this.clock.now().getTime();
    const lease = this.held.get(key);
    // A live lease blocks every other owner; re-taking our own succeeds, as in DynamoDB.
    if (lease && lease.owner !== this.owner && lease.expiresAt.getTime() >= now) {
      return { acquired: false, owner: lease.owner, expiresAt: lease.expiresAt };
    }
    const expiresAt = new Date(now + this.leaseMs);
    this.held.set(key, { owner: this.owner, expiresAt });
    this.taken.push(key);
    return { acquired: true, expiresAt };
  }

  async release(key: string): Promise<void> {
    await this.calls.enter('release', [key]);
    if (this.held.get(key)?.owner === this.owner) this.held.delete(key);
  }

  /** Another run holds `key` for `ms` from now. */
  holdBy(key: string, owner: string, ms: number): void {
    this.held.set(key, { owner, expiresAt: new Date(this.clock.now().getTime() + ms) });
  }
}

// ---- the context -----------------------------------------------------------------------------

export interface FakeContext extends RotationContext {
  atlas: FakeAtlas;
  store: FakeSecretStore;
  leases: FakeLeases;
  clock: FakeClock;
  log: RecordingLog;
}

export interface FakeContextOptions
  extends Partial<Pick<RotationContext, 'deadline' | 'tuning' | 'pace' | 'runId' | 'consumers'>> {
  pki: TestPki;
  /** Shorthand for a pace that says every project is paused while this is true. */
  paused?: () => boolean;
  /** @default one project, P1, with the user app1 */
  config?: RawConfig;
  now?: Date;
}

export const fakeContext = (options: FakeContextOptions): FakeContext => {
  const { pki, config, now, paused, ...rest } = options;
  const clock = new FakeClock(now);
  const parsed: RotatorConfig = parseConfig(
    config ?? { projects: [{ projectId: P1, users: ['app1'] }] },
  );
  if (paused) rest.pace ??= pausedPace(paused, parsed.rotation.concurrency);
  const runId = rest.runId ?? 'run-test';
  return {
    config: parsed,
    atlas: new FakeAtlas(clock, pki),
    store: new FakeSecretStore(clock),
    leases: new FakeLeases(clock, runId, parsed.locks.leaseSeconds * 1000),
    log: new RecordingLog(),
    clock,
    ...rest,
    runId,
  };
};

/** Users under one limit, every project paused while `paused()` says so. */
export const pausedPace = (paused: () => boolean, concurrency = 64): UserPace => ({
  ...fixedPace(pLimit(concurrency)),
  paused: () => paused(),
});

/** The user's settings as the config resolves them (listed users only). */
export const userOf = (ctx: FakeContext, projectId: string, username: string) => {
  const user = ctx.config.projects
    .find((p) => p.projectId === projectId)
    ?.users.find((u) => u.username === username);
  if (!user) throw new Error(`${projectId}:${username} is not in the test config`);
  return user;
};

/** A certificate Atlas lists and the user's secret holds as AWSCURRENT. */
export const holding = async (
  ctx: FakeContext,
  ref: UserRef,
  dates: CertDates,
  options: { stage?: string; recorded?: boolean } = {},
): Promise<FakeCertificate> => {
  const user = userOf(ctx, ref.projectId, ref.username);
  const cert = await ctx.atlas.seed(ref.projectId, ref.username, dates, {
    recorded: options.recorded,
  });
  ctx.store.seedCertificate(user, cert.minted, { stage: options.stage });
  return cert;
};

export const rotate = (
  ctx: FakeContext,
  request: Partial<RotationRequest> = {},
): Promise<RunReport> => runRotation(ctx, { dryRun: false, force: false, ...request });

export const rowOf = (report: RunReport, username: string, projectId = P1): UserReport => {
  const row = report.users.find((u) => u.username === username && u.projectId === projectId);
  if (!row) throw new Error(`no row for ${projectId}:${username}`);
  return row;
};

/** The user most tests are about. */
export const APP1: UserRef = { projectId: P1, username: 'app1' };

/**
 * For a test file: makes its keys once (`beforeAll`; RSA key generation is the slow part) and
 * returns a builder of fresh fake worlds that share them.
 */
export const fakeWorlds = (): ((options?: Omit<FakeContextOptions, 'pki'>) => FakeContext) => {
  let pki: TestPki | undefined;
  beforeAll(async () => {
    pki = await testPki();
  });
  return (options = {}) => {
    if (!pki) throw new Error('fakeWorlds(): a world was built before beforeAll ran');
    return fakeContext({ pki, ...options });
  };
};
