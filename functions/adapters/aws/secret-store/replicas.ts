import {
  DescribeSecretCommand,
  type ReplicaRegionType,
  ReplicateSecretToRegionsCommand,
  type ReplicationStatusType,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { ReplicaRegion, ReplicaStatus } from '../../../domain/replicas.js';
import type { SecretStorePort } from '../../../domain/rotation/ports.js';
import type { SecretState } from '../../../domain/stored-value.js';
import { awsErrorName, SecretStoreError, storeFailure } from './errors.js';

const STATUSES: readonly string[] = ['InSync', 'InProgress', 'Failed'];

/** The replicas Secrets Manager reports; its messages are clipped (they name, never quote). */
export const statusesOf = (list: readonly ReplicationStatusType[] | undefined): ReplicaStatus[] =>
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
export const replicaRegionType = (r: ReplicaRegion): ReplicaRegionType =>
  r.kmsKeyId ? { Region: r.region, KmsKeyId: r.kmsKeyId } : { Region: r.region };

/** A secret's replicas in other Regions: their status, and adding the missing ones. */
export class SecretReplicas implements Pick<SecretStorePort, 'replicationStatus' | 'replicate'> {
  constructor(private readonly client: SecretsManagerClient) {}

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
   * name there (ForceOverwriteReplicaSecret false): that replica fails and is reported.
   */
  async replicate(state: SecretState, regions: readonly ReplicaRegion[]): Promise<ReplicaStatus[]> {
    try {
      const out = await this.client.send(
        new ReplicateSecretToRegionsCommand({
          SecretId: state.arn,
          AddReplicaRegions: regions.map(replicaRegionType),
          // Said explicitly: IAM refuses a replication that does not (infra/permissions.ts).
          ForceOverwriteReplicaSecret: false,
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
}
