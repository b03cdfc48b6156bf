import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { atlasCredentialSource } from '../../../functions/adapters/aws/credentials.js';

/**
 * #25.1: the re-read after a 401 is bounded by the time the run has left, not by the secrets
 * client's own retries (8 attempts of up to 13 s): the signal reaches the SDK call.
 */
const VALUE = JSON.stringify({ clientId: 'id', clientSecret: 'sec' });

/** A secrets client that answers the first read and holds every later one until aborted. */
const slowClient = () => {
  const seen: (AbortSignal | undefined)[] = [];
  const client = {
    send: (_command: unknown, options?: { abortSignal?: AbortSignal }) => {
      seen.push(options?.abortSignal);
      if (seen.length === 1) return Promise.resolve({ SecretString: VALUE });
      return new Promise((_, reject) => {
        options?.abortSignal?.addEventListener('abort', () =>
          reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })),
        );
      });
    },
  };
  return { seen, secrets: client as unknown as SecretsManagerClient };
};

describe('the credential re-read', () => {
  it('passes its bound to Secrets Manager and stops when it fires', async () => {
    const { seen, secrets } = slowClient();
    const source = await atlasCredentialSource({ env: {}, secretId: 'creds', secrets });
    expect(source.reread).toBeDefined();
    const started = Date.now();
    const error = await source.reread?.({ abortSignal: AbortSignal.timeout(50) }).catch((e) => e);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toMatchObject({
      code: 'ATLAS_CREDENTIALS_MISSING',
      message: 'Cannot read the Atlas credentials secret creds (AbortError)',
    });
    expect(seen).toHaveLength(2);
    expect(seen[1]).toBeInstanceOf(AbortSignal);
  });
});
