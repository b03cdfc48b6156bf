import {
  NOT_AFTER_TAG,
  ORPHANS_TAG,
  OWN_ACCESS_TAG,
  POLICY_TAG,
  REPLICAS_TAG,
  REQUESTS_TAG,
} from '../../../functions/adapters/aws/secret-store/tags.js';
import type { ErrorCode } from '../../../functions/domain/error-codes.js';
import { RotatorError } from '../../../functions/domain/errors.js';
import {
  parseReplicaTag,
  type ReplicaRegion,
  type ReplicaStatus,
  replicaTagValue,
} from '../../../functions/domain/replicas.js';
import type {
  CreateSecretOptions,
  SecretStorePort,
} from '../../../functions/domain/rotation/index.js';
import type { RotatorTags } from '../../../functions/domain/rotation/ports.js';
import {
  CURRENT,
  labelsOf,
  orphansTagValue,
  PENDING,
  parseCurrentValue,
  parseOrphansTag,
  parseServedTag,
  type SecretState,
  serializeStored,
  versionIdFor,
} from '../../../functions/domain/stored-value.js';
import type { MintedCertificate } from '../../../tools/simulator/pki.js';
import { Calls } from './calls.js';
import type { FakeClock } from './clock.js';

// Secrets Manager's own label, which the engine never sets: only the fake moves it.
const PREVIOUS = 'AWSPREVIOUS';

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
  /** LastAccessedDate: midnight UTC of the last value read, the rotator's included. */
  lastAccessedDate?: Date | undefined;
}

/** A store failure shaped like the adapter's `SecretStoreError` (user-scoped). */
export const storeError = (
  code: ErrorCode = 'SECRET_STORE_FAILED',
  what = 'PutSecretValue',
): RotatorError =>
  new RotatorError(`Secrets Manager ${what} failed (ThrottlingException)`, {
    code,
    remedy: 'Retry the run; if it persists, check Secrets Manager health and quotas.',
  });

type Owner = { projectId: string; username: string; secretName: string };

/** Secrets Manager in memory, faithful to its labels and tags, with hooks to inject faults. */
export class FakeSecretStore implements SecretStorePort {
  readonly calls = new Calls<SecretStorePort>();
  readonly secrets = new Map<string, FakeSecret>();

  constructor(private readonly clock: FakeClock) {}

  async read(name: string, owner: Omit<Owner, 'secretName'>): Promise<SecretState | undefined> {
    await this.calls.enter('read', [name, owner]);
    // Described before the value is read, as the adapter's DescribeSecret is.
    const state = this.described(name, owner);
    if (state?.current) this.access(name);
    return state;
  }

  /** A GetSecretValue by anyone (a consumer, or the rotator): LastAccessedDate becomes today. */
  access(name: string, at: Date = this.clock.now()): void {
    const secret = this.must(name);
    secret.lastAccessedDate = new Date(Math.floor(at.getTime() / 86_400_000) * 86_400_000);
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
    this.access(state.name);
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

  async tagNotAfter(
    state: SecretState,
    notAfter: Date,
    policy?: string,
    ownAccess?: Date,
  ): Promise<boolean> {
    try {
      await this.calls.enter('tagNotAfter', [state, notAfter, policy]);
      this.must(state.name).tags.set(NOT_AFTER_TAG, notAfter.toISOString());
      if (policy !== undefined) this.must(state.name).tags.set(POLICY_TAG, policy);
      if (ownAccess) this.must(state.name).tags.set(OWN_ACCESS_TAG, ownAccess.toISOString());
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
    if (tags.ownAccess) secret.tags.set(OWN_ACCESS_TAG, tags.ownAccess.toISOString());
    if (tags.requests !== undefined) secret.tags.set(REQUESTS_TAG, tags.requests);
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

  requestsTag(name: string): string | undefined {
    return this.secrets.get(name)?.tags.get(REQUESTS_TAG);
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
  const ownAccess = secret.tags.get(OWN_ACCESS_TAG);
  const served = parseServedTag(secret.tags.get(REQUESTS_TAG));
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
    ...(secret.lastAccessedDate ? { lastAccessedDate: secret.lastAccessedDate } : {}),
    ...(ownAccess ? { ownAccess: new Date(ownAccess) } : {}),
    ...(served.length > 0 ? { servedRequests: served } : {}),
  };
};
