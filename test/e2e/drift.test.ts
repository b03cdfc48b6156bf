import {
  DeleteResourcePolicyCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { wantedPolicy } from '../../functions/domain/consumers.js';
import { DAY_MS } from '../../functions/domain/renewal.js';
import { auditSlot } from '../../functions/domain/rotation/upkeep/drift.js';
import { sm } from '../../tools/aws/seed.js';
import { Harness, P1, rowOf } from '../support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
});
afterEach(async () => h.close());

const A = 'arn:aws:iam::210987654321:role/app1-service';
const B = 'arn:aws:iam::123456789012:role/reporting';

const principals = async (name: string): Promise<string[] | undefined> => {
  const got = await sm().send(new GetResourcePolicyCommand({ SecretId: name }));
  if (!got.ResourcePolicy) return undefined;
  return JSON.parse(got.ResourcePolicy).Statement[0].Principal.AWS;
};
const policyTag = async (name: string): Promise<string | undefined> =>
  (await sm().send(new DescribeSecretCommand({ SecretId: name }))).Tags?.find(
    (t) => t.Key === 'atlas-x509-rotator:policy',
  )?.Value;

/** `ROTATOR_CONSUMERS` for P1 (none: unset). */
const withConsumers = (...arns: string[]) => ({
  env: arns.length
    ? { ...h.atlasEnv, ROTATOR_CONSUMERS: JSON.stringify({ [P1]: arns }) }
    : h.atlasEnv,
});

describe('drift end to end (simulator + moto_server)', () => {
  it('consumers added to config later reach an existing secret on the next run', async () => {
    h.sim.addUser(P1, 'app1');
    const config = h.config({ projects: [{ projectId: P1, users: ['app1'] }] });
    const name = h.secretName(P1, 'app1');
    expect(rowOf(await h.run(config, {}, withConsumers()), 'app1').action).toBe('rotated');
    expect(await principals(name)).toBeUndefined();

    const added = rowOf(await h.run(config, {}, withConsumers(A)), 'app1');
    expect(added.action).toBe('skipped');
    expect(added.drift).toEqual([
      { what: 'resource policy', found: 'not as configured', repaired: true },
    ]);
    expect(await principals(name)).toEqual([A]);
    expect(await policyTag(name)).toBe(wantedPolicy([A]).hash);

    // Another consumer: the tag alone shows the policy is stale.
    const more = rowOf(await h.run(config, {}, withConsumers(B, A)), 'app1');
    expect(more.drift).toEqual([
      { what: 'resource policy', found: 'consumers changed in config', repaired: true },
    ]);
    expect(await principals(name)).toEqual([A, B].sort());

    const steady = rowOf(await h.run(config, {}, withConsumers(A, B)), 'app1');
    expect(steady.drift).toBeUndefined();
  });

  it('restores a policy deleted by hand on the secret’s audit day, within a week', async () => {
    h.sim.addUser(P1, 'app1');
    const config = h.config({ projects: [{ projectId: P1, users: ['app1'] }] });
    const name = h.secretName(P1, 'app1');
    await h.run(config, {}, withConsumers(A));
    expect(await principals(name)).toEqual([A]);
    await sm().send(new DeleteResourcePolicyCommand({ SecretId: name }));

    // The run of each day in the coming week: only the secret's own day reads its policy.
    const today = Math.floor(Date.now() / DAY_MS);
    const wait = (auditSlot(name, 7) - (today % 7) + 7) % 7 || 7;
    const dayBefore = new Date((today + wait - 1) * DAY_MS + 12 * 3_600_000);
    const auditDay = new Date((today + wait) * DAY_MS + 12 * 3_600_000);
    if (wait > 1) {
      await h.run(config, {}, { ...withConsumers(A), now: () => dayBefore });
      expect(await principals(name)).toBeUndefined();
    }
    const row = rowOf(
      await h.run(config, {}, { ...withConsumers(A), now: () => auditDay }),
      'app1',
    );
    expect(row).toMatchObject({ action: 'skipped' });
    expect(row.reason).toContain(
      "repaired the consumers' resource policy (removed outside the rotator)",
    );
    expect(await principals(name)).toEqual([A]);
  });
});
