import {
  CreateSecretCommand,
  DeleteResourcePolicyCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  type ListSecretsCommandOutput,
  ListSecretVersionIdsCommand,
  PutResourcePolicyCommand,
  PutSecretValueCommand,
  RemoveRegionsFromReplicationCommand,
  type ReplicaRegionType,
  ReplicateSecretToRegionsCommand,
  type ReplicationStatusType,
  ResourceNotFoundException,
  type SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { type ErrorCode, RotatorError } from '../../domain/errors.js';
import { MANAGED_BY_TAG, MANAGED_BY_VALUE } from '../../domain/names.js';
import {
  parseReplicaTag,
  type ReplicaRegion,
  type ReplicaStatus,
  replicaTagValue,
} from '../../domain/replicas.js';
import type {
  CreateSecretOptions,
  RotatorTags,
  SecretStorePort,
} from '../../domain/rotation/ports.js';
import {
  CURRENT,
  labelsOf,
  orphansTagValue,
  PENDING,
  parseCurrentValue,
  parseOrphansTag,
  type SecretState,
  versionIdFor,
} from '../../domain/stored-value.js';
import { type KeyWriteRetryOptions, retryKeyWrite } from './key-write-retry.js';
import { runWideError } from './run-wide.js';

/**
 * The certificate secrets in Secrets Manager, through the SDK: the engine's `SecretStorePort`.
 * What a value and a version mean is the domain's (`domain/stored-value.ts`).
 */

export { MANAGED_BY_TAG, MANAGED_BY_VALUE };

/** The held certificate's expiry, tagged so the next run can order users from ListSecrets. */
export const NOT_AFTER_TAG = 'atlas-x509-rotator:not-after';

/** Orphan serials already reported, so a run counts only the orphans it is first to see. */
export const ORPHANS_TAG = 'atlas-x509-rotator:orphans';

/** The hash of the consumers' resource policy last put (`domain/consumers.ts` `wantedPolicy`). */
export const POLICY_TAG = 'atlas-x509-rotator:policy';

/** The Regions the secret is replicated to, and the version last seen in sync (`ReplicaTag`). */
export const REPLICAS_TAG = 'atlas-x509-rotator:replicas';

const CLOCK_SKEW_MS = 5 * 60_000;

const stateOf = (
  name: string,
  meta: Pick<
    DescribeSecretCommandOutput,
    'ARN' | 'CreatedDate' | 'DeletedDate' | 'VersionIdsToStages' | 'Tags' | 'RotationEnabled'
  >,
): SecretState => {
  const tagged = meta.Tags?.find((t) => t.Key === NOT_AFTER_TAG)?.Value;
  const hint = tagged ? new Date(tagged) : undefined;
  const versions = new Map(Object.entries(meta.VersionIdsToStages ?? {}));
  return {
    name,
    arn: meta.ARN ?? name,
    createdDate: meta.CreatedDate ?? new Date(0),
    deletedDate: meta.DeletedDate,
    versions,
    ...labelsOf(versions),
    current: undefined,
    notAfterHint: hint && !Number.isNaN(hint.getTime()) ? hint : undefined,
    rotationEnabled: meta.RotationEnabled === true,
    orphansSeen: parseOrphansTag(meta.Tags?.find((t) => t.Key === ORPHANS_TAG)?.Value),
    policyTag: meta.Tags?.find((t) => t.Key === POLICY_TAG)?.Value,
    replicaTag: parseReplicaTag(meta.Tags?.find((t) => t.Key === REPLICAS_TAG)?.Value),
  };
};

const STATUSES: readonly string[] = ['InSync', 'InProgress', 'Failed'];

/** The replicas Secrets Manager reports; its messages are clipped (they name, never quote). */
const statusesOf = (list: readonly ReplicationStatusType[] | undefined): ReplicaStatus[] =>
  (list ?? []).flatMap((r): ReplicaStatus[] =>
    r.Region
      ? [
          {
            region: r.Region,
            status:
              r.Status && STATUSES.includes(r.Status)
                ? (r.Status as ReplicaStatus['status'])
                : 'unknown',
            message: r.StatusMessage?.slice(0, 300),
          },
        ]
      : [],
  );

/** A replica as the API takes it: no KmsKeyId means that Region's aws/secretsmanager key. */
const replicaRegionType = (r: ReplicaRegion): ReplicaRegionType =>
  r.kmsKeyId ? { Region: r.region, KmsKeyId: r.kmsKeyId } : { Region: r.region };

export class SecretStoreError extends RotatorError {
  constructor(message: string, code: ErrorCode, remedy: string, cause?: unknown) {
    super(message, { code, remedy, scope: 'user', cause });
    this.name = 'SecretStoreError';
  }
}

const awsErrorName = (err: unknown): string => (err as { name?: string } | undefined)?.name ?? '';

/**
 * Maps SDK failures to errors that say what to do. Messages hold names and codes only, but for
 * run-wide causes (no region, no credentials, no endpoint: `run-wide.ts`), which stop the run.
 */
const storeFailure = (action: string, secret: string, err: unknown): RotatorError => {
  const wide = runWideError(err, { service: 'Secrets Manager', action });
  if (wide) return wide;
  const name = awsErrorName(err);
  if (name === 'AccessDeniedException') {
    return new SecretStoreError(
      `Secrets Manager denied ${action} on ${secret}`,
      'SECRET_ACCESS_DENIED',
      'Grant the rotator role access to secrets under the configured prefix.',
      name,
    );
  }
  if (name === 'DecryptionFailure' || name === 'EncryptionFailure' || name.startsWith('KMS')) {
    return new SecretStoreError(
      `KMS refused to ${name === 'DecryptionFailure' ? 'decrypt' : 'encrypt'} ${secret} (${name})`,
      'KMS_ACCESS_DENIED',
      "Check the secret's KMS key exists, is enabled, and its key policy lets the rotator role use it through Secrets Manager.",
      name,
    );
  }
  if (name === 'InvalidRequestException') {
    return new SecretStoreError(
      `Secrets Manager rejected ${action} on ${secret} (${name}); it may be scheduled for deletion`,
      'SECRET_INVALID_STATE',
      'Restore the secret (aws secretsmanager restore-secret) or check its state.',
      name,
    );
  }
  return new SecretStoreError(
    `Secrets Manager ${action} on ${secret} failed (${name || 'unknown error'})`,
    'SECRET_STORE_FAILED',
    'Retry the run; if it persists, check Secrets Manager health and quotas.',
    name,
  );
};

/** IAM checks every principal when a policy is put: a consumer role that does not exist fails it. */
const policyFailure = (action: string, secret: string, err: unknown): RotatorError => {
  const name = awsErrorName(err);
  if (name === 'MalformedPolicyDocumentException') {
    return new SecretStoreError(
      `Secrets Manager refused the consumers' resource policy for ${secret} (${name})`,
      'RESOURCE_POLICY_REFUSED',
      "Check that every consumer principal in ROTATOR_CONSUMERS (the construct's consumers) for this project exists; the next run puts the policy again.",
      name,
    );
  }
  return storeFailure(action, secret, err);
};

export interface SecretStoreOptions {
  /**
   * The client for key-holding writes (PutSecretValue, label moves), with SDK retries off:
   * they are retried by `retryKeyWrite`, on no shared retry quota. @default the main client
   */
  keyWrites?: SecretsManagerClient;
  keyWriteRetry?: KeyWriteRetryOptions;
}

/** Reads and writes certificate secrets. One instance per run; the SDK client is shared. */
export class SecretStore implements SecretStorePort {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly options: SecretStoreOptions = {},
  ) {}

  /** The secret's metadata and current value, or undefined when it does not exist. */
  async read(
    name: string,
    owner: { projectId: string; username: string },
  ): Promise<SecretState | undefined> {
    let described: DescribeSecretCommandOutput;
    try {
      described = await this.client.send(new DescribeSecretCommand({ SecretId: name }));
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return undefined;
      throw storeFailure('DescribeSecret', name, err);
    }
    const state = {
      ...stateOf(name, described),
      replication: statusesOf(described.ReplicationStatus),
    };
    if (state.deletedDate || !state.currentVersionId) return state;
    const got = await this.readVersion(name, { VersionStage: CURRENT });
    return {
      ...state,
      current: parseCurrentValue(got.SecretString, owner),
      currentCreatedDate: got.CreatedDate,
    };
  }

  /**
   * Metadata of every secret under `prefix`, 100 per call: enough to plan a steady-state run
   * without reading a single value (the version ids name the certificates they hold). Values
   * are read only for users that turn out due or unusual.
   */
  async index(prefix: string): Promise<Map<string, SecretState>> {
    const found = new Map<string, SecretState>();
    let NextToken: string | undefined;
    do {
      let page: ListSecretsCommandOutput;
      try {
        page = await this.client.send(
          new ListSecretsCommand({
            MaxResults: 100,
            NextToken,
            IncludePlannedDeletion: true,
            Filters: prefix ? [{ Key: 'name', Values: [prefix] }] : undefined,
          }),
        );
      } catch (err) {
        throw storeFailure('ListSecrets', `${prefix}*`, err);
      }
      for (const secret of page.SecretList ?? []) {
        // The name filter is a case-insensitive prefix match: keep exact matches only.
        if (!secret.Name?.startsWith(prefix)) continue;
        found.set(
          secret.Name,
          stateOf(secret.Name, {
            ARN: secret.ARN,
            CreatedDate: secret.CreatedDate,
            DeletedDate: secret.DeletedDate,
            VersionIdsToStages: secret.SecretVersionsToStages,
            Tags: secret.Tags,
            RotationEnabled: secret.RotationEnabled,
          }),
        );
      }
      NextToken = page.NextToken;
    } while (NextToken);
    return found;
  }

  /** The pending version's value, to finish an interrupted rotation. */
  async readPending(state: SecretState): Promise<string | undefined> {
    const got = await this.readVersion(state.name, {
      VersionId: state.pendingVersionId,
      VersionStage: PENDING,
    });
    return got.SecretString;
  }

  private async readVersion(
    name: string,
    selector: { VersionId?: string | undefined; VersionStage: string },
  ): Promise<{ SecretString?: string | undefined; CreatedDate?: Date | undefined }> {
    try {
      // Always name the stage: a stage-less read can return a stale version on some backends.
      return await this.client.send(new GetSecretValueCommand({ SecretId: name, ...selector }));
    } catch (err) {
      throw storeFailure('GetSecretValue', name, err);
    }
  }

  /**
   * Creates the secret without a value before anything is minted: its creation date marks
   * when we started managing the user, and the first certificate then lands in it at once.
   */
  async create(name: string, options: CreateSecretOptions): Promise<SecretState> {
    const replicas = options.replicaRegions ?? [];
    // Nothing verified yet: the next run checks the replicas once the first value is in.
    const replicaTag =
      replicas.length > 0
        ? { regions: replicas.map((r) => r.region), verified: undefined }
        : undefined;
    try {
      const created = await this.client.send(
        new CreateSecretCommand({
          Name: name,
          Description: `Atlas-managed X.509 certificate of ${options.username} in project ${options.projectId}, rotated by atlas-x509-rotator`,
          KmsKeyId: options.kmsKeyId,
          Tags: [
            { Key: MANAGED_BY_TAG, Value: MANAGED_BY_VALUE },
            { Key: 'atlas-x509-rotator:project-id', Value: options.projectId },
            { Key: 'atlas-x509-rotator:username', Value: tagValue(options.username) },
            ...(replicaTag ? [{ Key: REPLICAS_TAG, Value: replicaTagValue(replicaTag) }] : []),
          ],
          // Never ForceOverwriteReplicaSecret: a same-named secret in a replica Region is
          // someone else's; the replica fails instead, and the next run reports it.
          AddReplicaRegions: replicas.length > 0 ? replicas.map(replicaRegionType) : undefined,
        }),
      );
      const arn = created.ARN ?? name;
      // The consumers' policy is put once the first certificate is stored (`reconcile.ts`).
      // Nothing to read back: the secret is empty. Its creation time is backdated a little so
      // that clock skew cannot hide a certificate minted right after it from the orphan count.
      return {
        ...stateOf(name, { ARN: arn, CreatedDate: new Date(Date.now() - CLOCK_SKEW_MS) }),
        name,
        replicaTag,
      };
    } catch (err) {
      if (err instanceof SecretStoreError) throw err;
      if (awsErrorName(err) === 'ResourceExistsException') {
        // Another run created it a moment ago: use it.
        const state = await this.read(name, options);
        if (state) return state;
      }
      throw storeFailure('CreateSecret', name, err);
    }
  }

  /**
   * Stores a validated certificate. Into a secret that has a current version it goes as
   * AWSPENDING; into an empty secret it becomes the first version, which Secrets Manager makes
   * AWSCURRENT whatever stage is asked for. The version id comes from the serial, so a retry
   * with the same bytes is a no-op.
   */
  async put(state: SecretState, value: string, serialNumber: string): Promise<string> {
    const versionId = versionIdFor(serialNumber);
    try {
      await this.keyWrite(
        new PutSecretValueCommand({
          SecretId: state.arn,
          ClientRequestToken: versionId,
          SecretString: value,
          VersionStages: state.currentVersionId ? [PENDING] : [CURRENT],
        }),
      );
      return versionId;
    } catch (err) {
      throw storeFailure('PutSecretValue', state.name, err);
    }
  }

  /**
   * Makes the pending `versionId` current; Secrets Manager moves AWSPREVIOUS to the version
   * that was current.
   */
  async promote(state: SecretState, versionId: string): Promise<void> {
    await this.moveLabel(
      state,
      new UpdateSecretVersionStageCommand({
        SecretId: state.arn,
        VersionStage: CURRENT,
        MoveToVersionId: versionId,
        RemoveFromVersionId: state.currentVersionId,
      }),
      (stages) => stages.get(versionId)?.includes(CURRENT) === true,
    );
    // A pending label left on the current version reads as "done" anyway; removing it keeps
    // the next rotation's AWSPENDING unambiguous. The certificate is current already, so a
    // failure here is not the user's: the next run removes the label (`pendingOnCurrent`).
    await this.dropPending(state, versionId).catch(() => undefined);
  }

  /**
   * Records the current certificate's expiry as a tag, so the next run can order users by
   * urgency from `ListSecrets` alone. Best effort: a hint, not a fact.
   */
  async tagNotAfter(state: SecretState, notAfter: Date, policy?: string): Promise<boolean> {
    try {
      await this.tag(state, { notAfter, policy });
      return true;
    } catch {
      return false;
    }
  }

  /** The rotator's tags, in one TagResource. */
  async tag(state: SecretState, tags: RotatorTags): Promise<void> {
    const Tags = [
      ...(tags.notAfter ? [{ Key: NOT_AFTER_TAG, Value: tags.notAfter.toISOString() }] : []),
      ...(tags.policy !== undefined ? [{ Key: POLICY_TAG, Value: tags.policy }] : []),
      ...(tags.replicas ? [{ Key: REPLICAS_TAG, Value: replicaTagValue(tags.replicas) }] : []),
    ];
    if (Tags.length === 0) return;
    try {
      await this.client.send(new TagResourceCommand({ SecretId: state.arn, Tags }));
    } catch (err) {
      throw storeFailure('TagResource', state.name, err);
    }
  }

  /** The secret's resource policy, or undefined when it has none. */
  async readPolicy(state: SecretState): Promise<string | undefined> {
    try {
      const got = await this.client.send(new GetResourcePolicyCommand({ SecretId: state.arn }));
      return got.ResourcePolicy || undefined;
    } catch (err) {
      throw policyFailure('GetResourcePolicy', state.name, err);
    }
  }

  /** Puts the consumers' resource policy (public policies blocked), or removes it (undefined). */
  async putPolicy(state: SecretState, document: string | undefined): Promise<void> {
    try {
      if (document === undefined) {
        await this.client.send(new DeleteResourcePolicyCommand({ SecretId: state.arn }));
      } else {
        await this.client.send(
          new PutResourcePolicyCommand({
            SecretId: state.arn,
            ResourcePolicy: document,
            BlockPublicPolicy: true,
          }),
        );
      }
    } catch (err) {
      throw policyFailure(
        document === undefined ? 'DeleteResourcePolicy' : 'PutResourcePolicy',
        state.name,
        err,
      );
    }
  }

  /** Records the orphans reported so far, paced like the expiry tag. Best effort. */
  async tagOrphans(
    secret: Pick<SecretState, 'name' | 'arn'>,
    serials: readonly string[],
  ): Promise<boolean> {
    try {
      await this.client.send(
        new TagResourceCommand({
          SecretId: secret.arn,
          Tags: [{ Key: ORPHANS_TAG, Value: orphansTagValue(serials) }],
        }),
      );
      return true;
    } catch {
      return false;
    }
  }

  /** Removes AWSPENDING from a version: after promotion, or from one that must not be promoted. */
  async dropPending(state: SecretState, versionId: string): Promise<void> {
    await this.moveLabel(
      state,
      new UpdateSecretVersionStageCommand({
        SecretId: state.arn,
        VersionStage: PENDING,
        RemoveFromVersionId: versionId,
      }),
      (stages) => stages.get(versionId)?.includes(PENDING) !== true,
    );
  }

  /** Every replica of the secret and its status: DescribeSecret, a read (not paced). */
  async replicationStatus(state: SecretState): Promise<ReplicaStatus[]> {
    try {
      const described = await this.client.send(new DescribeSecretCommand({ SecretId: state.arn }));
      return statusesOf(described.ReplicationStatus);
    } catch (err) {
      throw storeFailure('DescribeSecret', state.name, err);
    }
  }

  /**
   * Replicates the secret to Regions it has no replica in. Never overwrites a secret of the same
   * name there (ForceOverwriteReplicaSecret stays off): that replica fails and is reported.
   */
  async replicate(state: SecretState, regions: readonly ReplicaRegion[]): Promise<ReplicaStatus[]> {
    try {
      const out = await this.client.send(
        new ReplicateSecretToRegionsCommand({
          SecretId: state.arn,
          AddReplicaRegions: regions.map(replicaRegionType),
        }),
      );
      return statusesOf(out.ReplicationStatus);
    } catch (err) {
      const name = awsErrorName(err);
      if (name === 'InvalidParameterException') {
        throw new SecretStoreError(
          `Secrets Manager refused to replicate ${state.name} to ${regions.map((r) => r.region).join(', ')} (${name})`,
          'REPLICA_REGION_REFUSED',
          "Check that each replica Region is enabled for the account and that the replica's KMS key exists there; the next run tries again.",
          name,
        );
      }
      throw storeFailure('ReplicateSecretToRegions', state.name, err);
    }
  }

  /**
   * Deletes a secret this rotator created that holds no version, with no recovery window (a
   * scheduled deletion would hold the name for 7 days). Checked first, unlabelled versions
   * included; IAM allows the delete only on secrets carrying the managed-by tag.
   */
  async removeEmpty(state: SecretState): Promise<boolean> {
    let action = 'DescribeSecret';
    try {
      const described = await this.client.send(new DescribeSecretCommand({ SecretId: state.arn }));
      const ours = described.Tags?.some(
        (t) => t.Key === MANAGED_BY_TAG && t.Value === MANAGED_BY_VALUE,
      );
      if (!ours || described.DeletedDate) return false;
      action = 'ListSecretVersionIds';
      const versions = await this.client.send(
        new ListSecretVersionIdsCommand({
          SecretId: state.arn,
          IncludeDeprecated: true,
          MaxResults: 1,
        }),
      );
      if ((versions.Versions ?? []).length > 0 || versions.NextToken) return false;
      // Secrets Manager refuses to delete a secret that still has replicas (empty, like it).
      const replicas = statusesOf(described.ReplicationStatus).map((r) => r.region);
      if (replicas.length > 0) {
        action = 'RemoveRegionsFromReplication';
        await this.client.send(
          new RemoveRegionsFromReplicationCommand({
            SecretId: state.arn,
            RemoveReplicaRegions: replicas,
          }),
        );
      }
      action = 'DeleteSecret';
      await this.client.send(
        new DeleteSecretCommand({ SecretId: state.arn, ForceDeleteWithoutRecovery: true }),
      );
      return true;
    } catch (err) {
      if (err instanceof ResourceNotFoundException) return false;
      throw storeFailure(action, state.name, err);
    }
  }

  private keyWrite(
    command: PutSecretValueCommand | UpdateSecretVersionStageCommand,
  ): Promise<unknown> {
    const client = this.options.keyWrites ?? this.client;
    const isPut = command instanceof PutSecretValueCommand;
    const send = () => (isPut ? client.send(command) : client.send(command));
    const { deadline, ...retry } = this.options.keyWriteRetry ?? {};
    // A minted key's write gets its whole budget: the deadline bounds only the label moves.
    return retryKeyWrite(send, isPut ? retry : { ...retry, deadline });
  }

  /**
   * A label move, retried like a key write. A retry of a move that had already committed is
   * refused (its RemoveFromVersionId no longer matches); when the labels are already where
   * `done` wants them, that is success.
   */
  private async moveLabel(
    state: SecretState,
    command: UpdateSecretVersionStageCommand,
    done: (stages: ReadonlyMap<string, readonly string[]>) => boolean,
  ): Promise<void> {
    try {
      await this.keyWrite(command);
    } catch (err) {
      const now = await this.client
        .send(new DescribeSecretCommand({ SecretId: state.arn }))
        .then((d) => new Map(Object.entries(d.VersionIdsToStages ?? {})))
        .catch(() => undefined);
      if (now && done(now)) return;
      throw storeFailure('UpdateSecretVersionStage', state.name, err);
    }
  }
}

// Tag values allow letters, digits, spaces and _.:/=+-@ only.
const tagValue = (value: string): string =>
  value.replace(/[^\p{L}\p{N}\s_.:/=+\-@]/gu, '-').slice(0, 256);
