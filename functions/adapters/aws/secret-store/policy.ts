import {
  DeleteResourcePolicyCommand,
  GetResourcePolicyCommand,
  PutResourcePolicyCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { SecretStorePort } from '../../../domain/rotation/ports.js';
import type { SecretState } from '../../../domain/stored-value.js';
import { policyFailure } from './errors.js';

/** The consumers' resource policy on a secret (`domain/consumers.ts` says what it should be). */
export class SecretPolicy implements Pick<SecretStorePort, 'readPolicy' | 'putPolicy'> {
  constructor(private readonly client: SecretsManagerClient) {}

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
}
