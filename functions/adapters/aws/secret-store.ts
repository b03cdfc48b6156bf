import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { ReplicaRegion, ReplicaStatus } from '../../domain/replicas.js';
import type {
  CreateSecretOptions,
  RotatorTags,
  SecretStorePort,
} from '../../domain/rotation/ports.js';
import type { SecretState } from '../../domain/stored-value.js';
import { SecretPolicy } from './secret-store/policy.js';
import { SecretReplicas } from './secret-store/replicas.js';
import { Secrets } from './secret-store/secrets.js';
import { SecretTagging } from './secret-store/tagging.js';
import { SecretVersions, type SecretVersionsOptions } from './secret-store/versions.js';

/**
 * The certificate secrets in Secrets Manager, through the SDK: the engine's `SecretStorePort`,
 * composed of its parts in `secret-store/` (secrets, versions, tags, resource policy, replicas).
 * What a value and a version mean is the domain's (`domain/stored-value.ts`).
 */

export type SecretStoreOptions = SecretVersionsOptions;

/** Reads and writes certificate secrets. One instance per run; the SDK client is shared. */
export class SecretStore implements SecretStorePort {
  private readonly secrets: Secrets;
  private readonly versions: SecretVersions;
  private readonly tagging: SecretTagging;
  private readonly policy: SecretPolicy;
  private readonly replicas: SecretReplicas;

  constructor(client: SecretsManagerClient, options: SecretStoreOptions = {}) {
    this.secrets = new Secrets(client);
    this.versions = new SecretVersions(client, options);
    this.tagging = new SecretTagging(client);
    this.policy = new SecretPolicy(client);
    this.replicas = new SecretReplicas(client);
  }

  read(name: string, owner: { projectId: string; username: string }) {
    return this.secrets.read(name, owner);
  }

  index(prefix: string) {
    return this.secrets.index(prefix);
  }

  readPending(state: SecretState) {
    return this.secrets.readPending(state);
  }

  create(name: string, options: CreateSecretOptions) {
    return this.secrets.create(name, options);
  }

  removeEmpty(state: SecretState) {
    return this.secrets.removeEmpty(state);
  }

  put(state: SecretState, value: string, serialNumber: string) {
    return this.versions.put(state, value, serialNumber);
  }

  promote(state: SecretState, versionId: string) {
    return this.versions.promote(state, versionId);
  }

  dropPending(state: SecretState, versionId: string) {
    return this.versions.dropPending(state, versionId);
  }

  tag(state: SecretState, tags: RotatorTags) {
    return this.tagging.tag(state, tags);
  }

  tagNotAfter(state: SecretState, notAfter: Date, policy?: string, ownAccess?: Date) {
    return this.tagging.tagNotAfter(state, notAfter, policy, ownAccess);
  }

  tagOrphans(secret: Pick<SecretState, 'name' | 'arn'>, serials: readonly string[]) {
    return this.tagging.tagOrphans(secret, serials);
  }

  readPolicy(state: SecretState) {
    return this.policy.readPolicy(state);
  }

  putPolicy(state: SecretState, document: string | undefined) {
    return this.policy.putPolicy(state, document);
  }

  replicationStatus(state: SecretState): Promise<ReplicaStatus[]> {
    return this.replicas.replicationStatus(state);
  }

  replicate(state: SecretState, regions: readonly ReplicaRegion[]) {
    return this.replicas.replicate(state, regions);
  }
}
