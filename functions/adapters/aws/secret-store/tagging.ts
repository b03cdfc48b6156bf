import { type SecretsManagerClient, TagResourceCommand } from '@aws-sdk/client-secrets-manager';
import { replicaTagValue } from '../../../domain/replicas.js';
import type { RotatorTags, SecretStorePort } from '../../../domain/rotation/ports.js';
import { orphansTagValue, type SecretState } from '../../../domain/stored-value.js';
import { storeFailure } from './errors.js';
import {
  NOT_AFTER_TAG,
  ORPHANS_TAG,
  OWN_ACCESS_TAG,
  POLICY_TAG,
  REPLICAS_TAG,
  REQUESTS_TAG,
} from './tags.js';

/** The rotator's tags on a secret: hints the next run plans from, written beside the value. */
export class SecretTagging implements Pick<SecretStorePort, 'tagNotAfter' | 'tag' | 'tagOrphans'> {
  constructor(private readonly client: SecretsManagerClient) {}

  /**
   * Records the current certificate's expiry as a tag, so the next run can order users by
   * urgency from `ListSecrets` alone. Best effort: a hint, not a fact.
   */
  async tagNotAfter(
    state: SecretState,
    notAfter: Date,
    policy?: string,
    ownAccess?: Date,
  ): Promise<boolean> {
    try {
      await this.tag(state, { notAfter, policy, ownAccess });
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
      ...(tags.ownAccess ? [{ Key: OWN_ACCESS_TAG, Value: tags.ownAccess.toISOString() }] : []),
      ...(tags.requests !== undefined ? [{ Key: REQUESTS_TAG, Value: tags.requests }] : []),
    ];
    if (Tags.length === 0) return;
    try {
      await this.client.send(new TagResourceCommand({ SecretId: state.arn, Tags }));
    } catch (err) {
      throw storeFailure('TagResource', state.name, err);
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
}
