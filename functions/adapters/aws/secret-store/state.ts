import type { DescribeSecretCommandOutput } from '@aws-sdk/client-secrets-manager';
import { parseReplicaTag } from '../../../domain/replicas.js';
import { labelsOf, parseOrphansTag, type SecretState } from '../../../domain/stored-value.js';
import { NOT_AFTER_TAG, ORPHANS_TAG, POLICY_TAG, REPLICAS_TAG } from './tags.js';

/** A secret's state from its metadata (DescribeSecret or a ListSecrets entry); no value read. */
export const stateOf = (
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
