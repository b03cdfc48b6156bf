import type { DescribeSecretCommandOutput } from '@aws-sdk/client-secrets-manager';
import { parseReplicaTag } from '../../../domain/replicas.js';
import {
  labelsOf,
  parseOrphansTag,
  parseServedTag,
  type SecretState,
} from '../../../domain/stored-value.js';
import {
  NOT_AFTER_TAG,
  ORPHANS_TAG,
  OWN_ACCESS_TAG,
  POLICY_TAG,
  REPLICAS_TAG,
  REQUESTS_TAG,
} from './tags.js';

const dateOf = (text: string | undefined): Date | undefined => {
  const date = text ? new Date(text) : undefined;
  return date && !Number.isNaN(date.getTime()) ? date : undefined;
};

/** A secret's state from its metadata (DescribeSecret or a ListSecrets entry); no value read. */
export const stateOf = (
  name: string,
  meta: Pick<
    DescribeSecretCommandOutput,
    | 'ARN'
    | 'CreatedDate'
    | 'DeletedDate'
    | 'VersionIdsToStages'
    | 'Tags'
    | 'RotationEnabled'
    | 'LastAccessedDate'
  >,
): SecretState => {
  const hint = dateOf(meta.Tags?.find((t) => t.Key === NOT_AFTER_TAG)?.Value);
  const ownAccess = dateOf(meta.Tags?.find((t) => t.Key === OWN_ACCESS_TAG)?.Value);
  const versions = new Map(Object.entries(meta.VersionIdsToStages ?? {}));
  const served = parseServedTag(meta.Tags?.find((t) => t.Key === REQUESTS_TAG)?.Value);
  return {
    name,
    arn: meta.ARN ?? name,
    createdDate: meta.CreatedDate ?? new Date(0),
    deletedDate: meta.DeletedDate,
    versions,
    ...labelsOf(versions),
    current: undefined,
    notAfterHint: hint,
    rotationEnabled: meta.RotationEnabled === true,
    orphansSeen: parseOrphansTag(meta.Tags?.find((t) => t.Key === ORPHANS_TAG)?.Value),
    policyTag: meta.Tags?.find((t) => t.Key === POLICY_TAG)?.Value,
    replicaTag: parseReplicaTag(meta.Tags?.find((t) => t.Key === REPLICAS_TAG)?.Value),
    // Only when known, so a state without them compares equal to one from before.
    ...(meta.LastAccessedDate ? { lastAccessedDate: meta.LastAccessedDate } : {}),
    ...(ownAccess ? { ownAccess } : {}),
    ...(served.length > 0 ? { servedRequests: served } : {}),
  };
};
