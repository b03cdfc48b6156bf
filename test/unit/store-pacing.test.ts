import {
  PutSecretValueCommand,
  SecretsManagerClient,
  TagResourceCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SecretState } from '../../functions/store.js';

// Secrets Manager's write quota (50 a second per family) cannot be modelled by moto.
const sm = mockClient(SecretsManagerClient);
const state = (i: number): SecretState => ({
  name: `atlas-x509/p/u${i}`,
  arn: `arn:aws:secretsmanager:us-east-1:1:secret:atlas-x509/p/u${i}-AbCdEf`,
  createdDate: new Date(0),
  deletedDate: undefined,
  versions: new Map([['v-old', ['AWSCURRENT']]]),
  currentVersionId: 'v-old',
  pendingVersionId: undefined,
  current: undefined,
  notAfterHint: undefined,
});

/** The most calls that fell within any one second. */
const busiestSecond = (times: readonly number[]): number =>
  Math.max(0, ...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));

describe('SecretStore write pacing', () => {
  const sent = { value: [] as number[], tag: [] as number[] };
  beforeEach(() => {
    vi.useFakeTimers();
    vi.resetModules(); // a fresh process's pacing window
    sent.value = [];
    sent.tag = [];
    sm.reset();
    const record = (family: number[]) => () => {
      family.push(Date.now());
      return {};
    };
    sm.on(PutSecretValueCommand).callsFake(record(sent.value));
    sm.on(UpdateSecretVersionStageCommand).callsFake(record(sent.value));
    sm.on(TagResourceCommand).callsFake(record(sent.tag));
  });
  afterEach(() => vi.useRealTimers());

  it('sends at most 50 writes of one family in any second; families have their own quota', async () => {
    const { SecretStore } = await import('../../functions/store.js');
    const store = new SecretStore(new SecretsManagerClient({ region: 'us-east-1' }));

    // 60 renewals: a put and a promotion (a move and a label removal) share the value quota.
    const renewals = Array.from({ length: 60 }, (_, i) =>
      store.put(state(i), '{}', String(i)).then((id) => store.promote(state(i), id)),
    );
    const tags = Array.from({ length: 60 }, (_, i) => store.tagNotAfter(state(i), new Date()));
    await vi.advanceTimersByTimeAsync(10);
    expect(sent.value).toHaveLength(50); // the first second's allowance goes at once
    expect(sent.tag).toHaveLength(50);

    await vi.advanceTimersByTimeAsync(5_000);
    await Promise.all([...renewals, ...tags]);
    expect(sent.value).toHaveLength(180);
    expect(sent.tag).toHaveLength(60);
    expect(busiestSecond(sent.value)).toBe(50);
    expect(busiestSecond(sent.tag)).toBe(50);
    // 180 value writes at 50 a second need over three seconds.
    expect(Math.max(...sent.value) - Math.min(...sent.value)).toBeGreaterThanOrEqual(2_600);
  });
});
