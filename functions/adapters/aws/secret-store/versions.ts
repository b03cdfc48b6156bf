import {
  DescribeSecretCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { SecretStorePort } from '../../../domain/rotation/ports.js';
import { CURRENT, PENDING, type SecretState, versionIdFor } from '../../../domain/stored-value.js';
import { type KeyWriteRetryOptions, retryKeyWrite } from '../key-write-retry.js';
import { storeFailure } from './errors.js';

export interface SecretVersionsOptions {
  /**
   * The client for key-holding writes (PutSecretValue, label moves), with SDK retries off:
   * they are retried by `retryKeyWrite`, on no shared retry quota. @default the main client
   */
  keyWrites?: SecretsManagerClient;
  keyWriteRetry?: KeyWriteRetryOptions;
}

/**
 * The versions that hold keys: storing one and moving its labels, each write retried on its own
 * budget (`key-write-retry.ts`).
 */
export class SecretVersions implements Pick<SecretStorePort, 'put' | 'promote' | 'dropPending'> {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly options: SecretVersionsOptions = {},
  ) {}

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
