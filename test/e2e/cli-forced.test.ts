import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../../functions/domain/report.js';
import { Harness, P1 } from '../support/harness.js';

// #24.3, #25.10: the CLI makes one request id per forced command and prints it; --request-id
// repeats a request, which then mints nothing more. The real CLI, the simulator and moto_server.

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
});
afterEach(async () => h.close());

const REQUEST_ID = /^request id: (cli-[0-9a-f-]{36})$/m;

describe('CLI: forced requests by identity', () => {
  it('forces a new certificate right after a rotation, repeats a request without a second mint, and plans a new one', async () => {
    h.sim.addUser(P1, 'app1');
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    const scheduled = await h.cli(['--config', config, '--json']);
    const first = (JSON.parse(scheduled.stdout) as RunReport).users[0];
    expect(first).toMatchObject({ action: 'rotated' });

    // An operator forces at once (a key leaked): a new certificate, and the id to repeat it.
    const forced = await h.cli(['--config', config, '--force', '--only', `${P1}:app1`, '--json']);
    expect(forced.code).toBe(0);
    const id = REQUEST_ID.exec(forced.stderr)?.[1];
    expect(id).toBeDefined();
    const report = JSON.parse(forced.stdout) as RunReport;
    expect(report.requestId).toBe(id);
    expect(report.users[0]).toMatchObject({ action: 'rotated' });
    expect(report.users[0]?.serialNumber).not.toBe(first?.serialNumber);
    expect(h.sim.count('POST', '/certs')).toBe(2);

    // The same request again (its output was lost, say): nothing more is minted.
    const repeated = await h.cli([
      '--config',
      config,
      '--force',
      '--only',
      `${P1}:app1`,
      '--request-id',
      id as string,
      '--json',
    ]);
    expect(repeated.stderr).toMatch(new RegExp(`^request id: ${id}$`, 'm'));
    expect((JSON.parse(repeated.stdout) as RunReport).users[0]).toMatchObject({
      action: 'skipped',
      serialNumber: report.users[0]?.serialNumber,
      reason: expect.stringMatching(/^forced request already served: request cli-/),
    });
    expect(h.sim.count('POST', '/certs')).toBe(2);

    // A dry run of a new forced request plans the mint.
    const plan = await h.cli([
      '--config',
      config,
      '--dry-run',
      '--force',
      '--only',
      `${P1}:app1`,
      '--json',
    ]);
    expect((JSON.parse(plan.stdout) as RunReport).users[0]).toMatchObject({
      action: 'planned',
      reason: expect.stringMatching(/^would mint: forced/),
    });
    expect(h.sim.count('POST', '/certs')).toBe(2);
  });

  it('refuses a malformed --request-id in flag language, before any call', async () => {
    h.sim.addUser(P1, 'app1');
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    const result = await h.cli([
      '--config',
      config,
      '--force',
      '--all',
      '--request-id',
      'two words',
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--request-id: must be 1 to 128 characters/);
    expect(h.sim.requests).toHaveLength(0);
  });
});
