import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  type DescribeSecretCommandOutput,
  GetSecretValueCommand,
  ListSecretsCommand,
  type ListSecretsCommandOutput,
  ListSecretVersionIdsCommand,
  RemoveRegionsFromReplicationCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { replicaTagValue } from '../../../domain/replicas.js';
import type { CreateSecretOptions, SecretStorePort } from '../../../domain/rotation/ports.js';
import {
  CURRENT,
  PENDING,
  parseCurrentValue,
  type SecretState,
} from '../../../domain/stored-value.js';
import { awsErrorName, SecretStoreError, storeFailure } from './errors.js';
import { replicaRegionType, statusesOf } from './replicas.js';
import { stateOf } from './state.js';
import {
  MANAGED_BY_TAG,
  MANAGED_BY_VALUE,
  PROJECT_ID_TAG,
  REPLICAS_TAG,
  tagValue,
  USERNAME_TAG,
} from './tags.js';

const CLOCK_SKEW_MS = 5 * 60_000;

/** The secrets themselves: find, read, create and remove them. Versions are `versions.ts`'s. */
export class Secrets
  implements Pick<SecretStorePort, 'read' | 'index' | 'readPending' | 'create' | 'removeEmpty'>
{
  constructor(private readonly client: SecretsManagerClient) {}

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
            LastAccessedDate: secret.LastAccessedDate,
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
            { Key: PROJECT_ID_TAG, Value: options.projectId },
            { Key: USERNAME_TAG, Value: tagValue(options.username) },
            ...(replicaTag ? [{ Key: REPLICAS_TAG, Value: replicaTagValue(replicaTag) }] : []),
          ],
          // Never ForceOverwriteReplicaSecret: a same-named secret in a replica Region is
          // someone else's; the replica fails instead, and the next run reports it. Said
          // explicitly: IAM refuses a replication that does not (infra/permissions.ts).
          ...(replicas.length > 0
            ? {
                AddReplicaRegions: replicas.map(replicaRegionType),
                ForceOverwriteReplicaSecret: false,
              }
            : {}),
        }),
      );
      const arn = created.ARN ?? name;
      // The consumers' policy is put once the first certificate is stored (`rotation/upkeep/drift.ts`).
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
}
