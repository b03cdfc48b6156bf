import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Harness, P1, rowOf } from '../support/harness.js';

/** `atlas-x509-rotator doctor` through the shipped CLI, against the simulator and moto_server. */

const run = promisify(execFile);
let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
  h.sim.addUser(P1, 'app1');
});
afterEach(async () => h.close());

const doctor = async (
  config: string,
  env: Record<string, string> = h.atlasEnv,
): Promise<{ code: number; stdout: string }> => {
  try {
    const { stdout } = await run(
      process.execPath,
      [String(process.env.ROTATOR_TEST_CLI), 'doctor', '--config', config],
      { env: { ...process.env, ...env } },
    );
    return { code: 0, stdout };
  } catch (err) {
    const failed = err as { code: number; stdout: string };
    return { code: failed.code, stdout: failed.stdout };
  }
};

const lineOf = (stdout: string, name: string): string =>
  stdout.split('\n').find((l) => l.includes(`  ${name}`)) ?? `(no line for ${name})`;

describe('doctor', () => {
  it('passes a deployment a real run would work with, one line a check, and changes nothing', async () => {
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    await h.seedDue(P1, 'app1', 20);
    const before = h.sim.requests.length;
    const { code, stdout } = await doctor(config);
    expect(stdout).toMatch(/^ok {4}Atlas credential: service account /m);
    expect(lineOf(stdout, `database users (${P1})`)).toMatch(
      /^ok .*1 users, 1 with Atlas-managed X\.509/,
    );
    expect(lineOf(stdout, `certificates (${P1}:app1)`)).toMatch(/^ok .*1 certificates listed/);
    expect(lineOf(stdout, `customer X.509 (${P1})`)).toMatch(/^ok .*no customer CA/);
    expect(lineOf(stdout, `lease table ${h.tableName}`)).toMatch(/^ok /);
    expect(lineOf(stdout, 'secrets under')).toMatch(
      /^ok .*1 secrets listed; .* read and decrypted/,
    );
    expect(lineOf(stdout, 'event bus default')).toMatch(/^ok /);
    expect(stdout).toMatch(/A real run would work/);
    expect(code).toBe(0);
    const methods = h.sim.requests.slice(before).map((r) => r.method);
    expect(methods.filter((m) => m !== 'GET' && m !== 'POST')).toEqual([]);
    expect(h.sim.count('POST', '/certs')).toBe(0);
  });

  it('reads no secret whose read could hide applications that have not reloaded', async () => {
    const raw = h.config({ projects: [{ projectId: P1, users: ['app1'] }] });
    await h.seedDue(P1, 'app1', 5);
    // The rotation leaves the previous certificate as AWSPREVIOUS, read by no consumer since.
    expect(rowOf(await h.run(raw), 'app1').action).toBe('rotated');
    const { code, stdout } = await doctor(await h.writeConfig(raw));
    expect(lineOf(stdout, 'secrets under')).toMatch(
      /^ok .*1 secrets listed; none read: a read now could hide applications that have not reloaded/,
    );
    expect(code).toBe(0);
  });

  it('fails, with the remedy, on a rejected credential, a missing lease table or a customer CA', async () => {
    h.sim.setCustomerCa(P1, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const config = await h.writeConfig({
      ...h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
      locks: { tableName: 'no-such-table' },
    });
    const { code, stdout } = await doctor(config);
    expect(lineOf(stdout, `customer X.509 (${P1})`)).toMatch(/^FAIL .*customer CA.*→ Remove/);
    expect(lineOf(stdout, 'lease table no-such-table')).toMatch(/^FAIL .*→ /);
    expect(stdout).toMatch(/2 checks failed: a real run would not work/);
    expect(code).toBe(1);

    const rejected = await doctor(config, {
      ...h.atlasEnv,
      MONGODB_ATLAS_CLIENT_SECRET: 'not-the-secret-7f3a',
    });
    expect(lineOf(rejected.stdout, `database users (${P1})`)).toMatch(/^FAIL .*rejected.*→ /);
    // A rejected credential is said once, not again for every later Atlas check.
    expect(rejected.stdout.match(/rejected the service account/g)).toHaveLength(1);
    expect(rejected.stdout).not.toContain('not-the-secret-7f3a');
    expect(rejected.code).toBe(1);
  });
});
