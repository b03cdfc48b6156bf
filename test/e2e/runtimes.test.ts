import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DisableReport } from '../../functions/domain/customer-x509.js';
import type { RunReport } from '../../functions/domain/report.js';
import { TESTED_NODE_MAJORS } from '../../infra/runtime.js';
import { Harness, P1, ROOT } from '../support/harness.js';
import { invokeBundle, lambdaNode } from '../support/lambda-runner.js';

/**
 * The runtime is the adopter's choice (#24.5, D5): the construct accepts exactly the Node.js
 * runtimes listed in infra/runtime.ts, and here the shipped bundles run on each of them (the
 * Node version that Lambda runtime runs, from the npm registry, cached by npx): a dry run, a
 * real mint into moto_server, and the disable operation's dry run.
 */

const bundle = (name: string) => join(ROOT, 'dist/assets', name, 'index.mjs');

let h: Harness;
let env: Record<string, string>;
beforeAll(async () => {
  h = await Harness.start();
  const config = await h.writeConfig(
    h.config({ projects: [{ projectId: P1, users: TESTED_NODE_MAJORS.map((m) => `node${m}`) }] }),
  );
  for (const major of TESTED_NODE_MAJORS) h.sim.addUser(P1, `node${major}`);
  env = { ...h.atlasEnv, ROTATOR_CONFIG_PATH: config };
});
afterAll(() => h.close());

describe.each(TESTED_NODE_MAJORS)('the shipped bundles on nodejs%s.x', (major) => {
  it('plan, mint and store a certificate; the disable bundle answers its dry run', async () => {
    const node = await lambdaNode(major);
    const { stdout } = await promisify(execFile)(node, ['--version']);
    expect(stdout.trim()).toMatch(new RegExp(`^v${major}\\.`));
    const user = `node${major}`;
    const only = { only: [{ projectId: P1, username: user }] };

    const planned = await invokeBundle<RunReport>({
      node,
      bundle: bundle('rotate'),
      event: { dryRun: true, ...only },
      env,
    });
    expect(planned.users.map((u) => [u.username, u.action])).toEqual([[user, 'planned']]);

    const rotated = await invokeBundle<RunReport>({
      node,
      bundle: bundle('rotate'),
      event: { force: true, requestedAt: new Date().toISOString(), ...only },
      env,
    });
    expect(rotated.users.map((u) => [u.username, u.action])).toEqual([[user, 'rotated']]);
    expect(rotated.users[0]?.serialNumber).toMatch(/^[0-9a-f]+$/i);

    const disable = await invokeBundle<DisableReport>({
      node,
      bundle: bundle('disable-customer-x509'),
      event: { projectId: P1 },
      env,
    });
    // No customer CA on the project: nothing to disable, and it says so.
    expect(disable).toMatchObject({ projectId: P1, action: 'no-op', customerCaConfigured: false });
    expect(h.leaks()).toEqual([]);
  }, 300_000);
});
