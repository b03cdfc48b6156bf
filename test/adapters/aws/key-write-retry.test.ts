import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import {
  isRetryableWrite,
  retryKeyWrite,
} from '../../../functions/adapters/aws/key-write-retry.js';
import { SecretStore } from '../../../functions/adapters/aws/secret-store.js';
import type { SecretState } from '../../../functions/domain/stored-value.js';
import { KEY_WRITE_BUDGET_MS } from '../../../functions/domain/timing.js';

/**
 * Real SDK clients, a fake wire: the retry middleware and its token bucket run for real
 * (aws-sdk-client-mock replaces `send` and would skip both).
 */
type Reply = { status: number; body: Record<string, unknown> };
const wire = (answer: (operation: string, n: number) => Reply) => {
  const calls: string[] = [];
  return {
    calls,
    handler: {
      handle: async (request: { headers: Record<string, string> }) => {
        const operation = (request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
        calls.push(operation);
        const { status, body } = answer(operation, calls.filter((c) => c === operation).length);
        const type = typeof body.__type === 'string' ? { 'x-amzn-errortype': body.__type } : {};
        return {
          response: {
            statusCode: status,
            headers: { 'content-type': 'application/x-amz-json-1.1', ...type },
            body: Buffer.from(JSON.stringify(body)),
          },
        };
      },
    },
  };
};

const throttled: Reply = {
  status: 400,
  body: { __type: 'ThrottlingException', message: 'Rate exceeded' },
};
const ok: Reply = { status: 200, body: {} };

const client = (handler: ReturnType<typeof wire>['handler'], maxAttempts: number) =>
  new SecretsManagerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts,
    requestHandler: handler,
  });

const state: SecretState = {
  name: 'atlas-x509/p/u',
  arn: 'arn:aws:secretsmanager:us-east-1:1:secret:u',
  createdDate: new Date(0),
  deletedDate: undefined,
  versions: new Map([['old', ['AWSCURRENT']]]),
  currentVersionId: 'old',
  pendingVersionId: undefined,
  current: undefined,
  notAfterHint: undefined,
};

const noWait = { sleep: async () => {} };

describe('key-holding writes keep their retries', () => {
  it('a put still retries after the shared client found its retry quota empty', async () => {
    // Every read is throttled: the shared client spends its 500 retry tokens (5 a retry).
    const shared = wire((op) => (op === 'GetSecretValue' ? throttled : ok));
    const sharedClient = client(shared.handler, 3);
    // At once, so the SDK's backoffs overlap: 60 reads want 120 retries, the bucket has 100.
    await Promise.all(
      Array.from({ length: 60 }, () =>
        sharedClient.send(new GetSecretValueCommand({ SecretId: 'x' })).catch(() => {}),
      ),
    );
    expect(shared.calls.length).toBeLessThan(60 * 3);
    const sentBefore = shared.calls.length;
    await sharedClient.send(new GetSecretValueCommand({ SecretId: 'x' })).catch(() => {});
    // The quota is empty: one more throttled read is sent once and not retried.
    expect(shared.calls.length - sentBefore).toBe(1);

    // The store's own key-write client retries the put to success all the same.
    const keyWire = wire((op, n) => (op === 'PutSecretValue' && n <= 3 ? throttled : ok));
    const store = new SecretStore(sharedClient, {
      keyWrites: client(keyWire.handler, 1),
      keyWriteRetry: noWait,
    });
    await expect(store.put(state, '{}', '1')).resolves.toMatch(/^[0-9a-f-]{36}$/);
    expect(keyWire.calls.filter((c) => c === 'PutSecretValue')).toHaveLength(4);
  });

  it('a label move retried after it committed counts as done', async () => {
    // The first move commits but its answer is lost (500); the retry then finds AWSCURRENT
    // already moved, so its RemoveFromVersionId no longer matches.
    let moved = false;
    const w = wire((op, n) => {
      if (op === 'UpdateSecretVersionStage' && n === 1) {
        moved = true;
        return { status: 500, body: { __type: 'InternalServiceError', message: 'lost' } };
      }
      if (op === 'UpdateSecretVersionStage' && n === 2) {
        return {
          status: 400,
          body: { __type: 'InvalidParameterException', message: 'RemoveFromVersionId mismatch' },
        };
      }
      if (op === 'DescribeSecret') {
        return {
          status: 200,
          body: { VersionIdsToStages: moved ? { new: ['AWSCURRENT'], old: ['AWSPREVIOUS'] } : {} },
        };
      }
      return ok;
    });
    const c = client(w.handler, 1);
    await new SecretStore(c, { keyWriteRetry: noWait }).promote(state, 'new');
    expect(w.calls).toContain('DescribeSecret');
  });

  it('a label move that did not happen still fails, naming the call', async () => {
    const w = wire((op) =>
      op === 'UpdateSecretVersionStage'
        ? { status: 400, body: { __type: 'InvalidParameterException', message: 'no' } }
        : { status: 200, body: { VersionIdsToStages: { old: ['AWSCURRENT'] } } },
    );
    await expect(
      new SecretStore(client(w.handler, 1), { keyWriteRetry: noWait }).promote(state, 'new'),
    ).rejects.toMatchObject({ code: 'SECRET_STORE_FAILED', message: /UpdateSecretVersionStage/ });
    expect(w.calls.filter((c) => c === 'UpdateSecretVersionStage')).toHaveLength(1);
    await expect(
      client(w.handler, 1).send(new DescribeSecretCommand({ SecretId: 'x' })),
    ).resolves.toBeDefined();
  });
});

describe('retryKeyWrite', () => {
  const failing = (errors: unknown[]) => {
    let n = 0;
    return {
      attempts: () => n,
      write: async () => {
        const err = errors[n++];
        if (err) throw err;
        return 'ok';
      },
    };
  };
  const throttle = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });
  const refused = Object.assign(new Error('bad key'), {
    name: 'EncryptionFailure',
    $metadata: { httpStatusCode: 400 },
  });

  it.each([
    ['throttling', throttle, true],
    ['a 5xx', { name: 'InternalServiceError', $metadata: { httpStatusCode: 500 } }, true],
    ['a socket error', Object.assign(new Error('reset'), { code: 'ECONNRESET' }), true],
    ['a timeout', Object.assign(new Error('t'), { name: 'TimeoutError' }), true],
    ['a KMS refusal (400)', refused, false],
    [
      'access denied (400)',
      { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } },
      false,
    ],
  ])('%s is retryable: %s', (_, err, expected) => {
    expect(isRetryableWrite(err)).toBe(expected);
  });

  it('backs off exponentially with full jitter, throttling from 500 ms', async () => {
    const waits: number[] = [];
    const f = failing([throttle, throttle, throttle]);
    const result = await retryKeyWrite(f.write, {
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.999,
    });
    expect(result).toBe('ok');
    expect(waits).toEqual([499, 999, 1998]);
  });

  it('does not retry a refusal', async () => {
    const f = failing([refused]);
    await expect(retryKeyWrite(f.write, noWait)).rejects.toBe(refused);
    expect(f.attempts()).toBe(1);
  });

  /** A fake clock that sleeping advances, and the longest jitter every time. */
  const clocked = () => {
    const clock = { now: 0 };
    const options = {
      now: () => clock.now,
      sleep: async (ms: number) => {
        clock.now += ms;
      },
      random: () => 0.999,
    };
    return { clock, options };
  };
  const throttled = (n: number) => failing(Array.from({ length: n }, () => throttle));

  it('makes a retry only if it can end inside the time budget', async () => {
    const { clock, options } = clocked();
    const f = throttled(20);
    await expect(
      retryKeyWrite(f.write, { ...options, budgetMs: 10_000, attemptTimeoutMs: 2_000 }),
    ).rejects.toBe(throttle);
    // Waits of 499, 999, 1,998 and 3,996 ms each leave a 2 s attempt inside 10 s; 7,992 would not.
    expect(f.attempts()).toBe(5);
    expect(clock.now).toBe(7_492);
  });

  it('under the default budget a throttled write gets eight attempts at the longest jitter', async () => {
    const first = clocked();
    const f = throttled(7);
    await expect(retryKeyWrite(f.write, first.options)).resolves.toBe('ok');
    expect(f.attempts()).toBe(8);
    expect(first.clock.now).toBeLessThan(KEY_WRITE_BUDGET_MS);
    const g = throttled(8);
    await expect(retryKeyWrite(g.write, clocked().options)).rejects.toBe(throttle);
    // The ninth attempt could not end inside the budget, so it is not made.
    expect(g.attempts()).toBe(8);
  });

  it('never waits past the deadline', async () => {
    const { clock, options } = clocked();
    const f = throttled(10);
    await expect(retryKeyWrite(f.write, { ...options, deadline: () => 2_000 })).rejects.toBe(
      throttle,
    );
    // Waits of 499 and 999 ms fit before 2,000 ms; the next (1,998 ms) would not.
    expect(f.attempts()).toBe(3);
    expect(clock.now).toBe(1_498);
  });
});
