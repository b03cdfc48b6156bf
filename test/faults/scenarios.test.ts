import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { awsProxy } from '../../tools/aws/fault-proxy.js';
import { SCENARIOS } from '../../tools/scenarios/catalog.js';
import { runScenario } from '../../tools/scenarios/run.js';
import { generateRsaKeyPair } from '../../tools/simulator/pki.js';

/**
 * The short hard-timing scenarios, as `npm run scenarios` runs them (tools/scenarios/): the
 * shipped CLI against the simulator and moto_server behind the fault proxy, within the bounds
 * docs/reliability.md gives.
 */
describe('hard-timing scenarios (tools/scenarios/catalog.ts)', () => {
  const dir = mkdtemp(join(tmpdir(), 'rotator-scenarios-'));
  afterAll(async () => rm(await dir, { recursive: true, force: true }));
  // Four keys for every scenario here, not a pool of sixteen each.
  const keys = Promise.all(Array.from({ length: 4 }, () => generateRsaKeyPair(2048)));

  for (const scenario of SCENARIOS.filter((s) => s.inSuite)) {
    it(scenario.name, { timeout: 120_000 }, async () => {
      const row = await runScenario(scenario, {
        proxy: awsProxy(),
        dir: await dir,
        keys: await keys,
      });
      expect({ minted: row.minted, lost: row.lost, perUser: row.perUser }).toEqual({
        minted: expect.toSatisfy((n: number) => n <= scenario.atMost.minted),
        lost: expect.toSatisfy((n: number) => n <= scenario.atMost.lost),
        perUser: expect.toSatisfy((n: number) => n <= scenario.atMost.perUser),
      });
      expect(row.outcome).not.toMatch(/killed/);
    });
  }
});
