import type { ReplicaRegionType, ReplicationStatusType } from '@aws-sdk/client-secrets-manager';
import type { ReplicaRegion, ReplicaStatus } from '../../../domain/replicas.js';

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
