import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DisableReport } from '../../functions/domain/customer-x509.js';
import { Harness, P1, P2 } from '../support/harness.js';

/** What the CLI says besides its report: logs, mistyped flags, the disable dry run's advice. */

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
});
afterEach(async () => h.close());

const run = promisify(execFile);
const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  run(process.execPath, [String(process.env.ROTATOR_TEST_CLI), ...args], {
    env: { ...process.env, ...h.atlasEnv },
  }).then(
    (ok) => ({ code: 0, ...ok }),
    (err: { code: number; stdout: string; stderr: string }) => err,
  );

const errorLines = (stderr: string): string[] =>
  stderr.split('\n').filter((l) => l.includes('"level":"ERROR"'));

describe('a failed user is told once', () => {
  it('by the report, with no ERROR log line on stderr (table, --quiet, --json), unless a log level is asked for', async () => {
    h.sim.addUser(P1, 'app1');
    h.sim.addUser(P1, 'scram', { x509Type: 'NONE', databaseName: 'admin' });
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1', 'scram'] }] }),
    );
    for (const flags of [[], ['--quiet'], ['--json']]) {
      const out = await h.cli(['--config', config, ...flags], h.operatorEnv);
      expect(out.code).toBe(1);
      expect(out.stdout).toContain('USER_NOT_MANAGED_X509');
      expect(errorLines(out.stderr)).toEqual([]);
    }
    const asked = await h.cli(['--config', config, '--quiet'], {
      ...h.atlasEnv,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    const lines = errorLines(asked.stderr);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
      message: 'user done',
      username: 'scram',
      errorCode: 'USER_NOT_MANAGED_X509',
    });
  }, 90_000);
});

describe('a mistyped flag or command', () => {
  it('gets the one it most likely meant, exit 2, and nothing is called', async () => {
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    const dryrun = await cli(['rotate', '--config', config, '--dryrun']);
    expect(dryrun.code).toBe(2);
    expect(dryrun.stderr).toMatch(
      /^Unknown option '--dryrun': did you mean --dry-run\?\n\nUsage: atlas-x509-rotator rotate/,
    );
    const jsn = await cli(['doctor', '--config', config, '--jsn']);
    expect(jsn.code).toBe(2);
    expect(jsn.stderr).toMatch(/^Unknown option '--jsn': did you mean --json\?\n/);
    const requestedBy = await cli([
      'disable-customer-x509',
      '--config',
      config,
      '--project',
      P1,
      '--requestedby',
      'carol',
    ]);
    expect(requestedBy.stderr).toMatch(
      /^Unknown option '--requestedby': did you mean --requested-by\?\n/,
    );
    const command = await cli(['doctr']);
    expect(command.code).toBe(2);
    expect(command.stderr).toMatch(
      /^Unknown command "doctr"\n\n[\s\S]*\nDid you mean `atlas-x509-rotator doctor`\?\n$/,
    );
    expect(h.sim.requests).toHaveLength(0);
  });
});

describe('disable-customer-x509 from the CLI', () => {
  it('its dry run prints the command to run, which works as printed', async () => {
    h.sim.setCustomerCa(P1, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    const dry = await h.disableCli(['--config', config, '--project', P1]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).not.toContain('confirm=');
    const advice = /To disable, run: atlas-x509-rotator disable-customer-x509 (.*)$/m.exec(
      dry.stdout,
    )?.[1];
    expect(advice).toBe(
      `--config ${config} --project ${P1} --confirm ${P1} --requested-by '<who>' --reason '<why>'`,
    );
    const json = await h.disableCli(['--config', config, '--project', P1, '--json']);
    expect((JSON.parse(json.stdout) as DisableReport).message).toContain(
      `--confirm ${P1} --requested-by '<who>' --reason '<why>'`,
    );

    // The printed command, with who and why filled in, is the confirmed disable.
    const args = (advice ?? '').replace("'<who>'", 'carol').replace("'<why>'", 'CHG-7').split(' ');
    const done = await h.disableCli([...args, '--json']);
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout) as DisableReport).toMatchObject({
      action: 'disabled',
      audit: { requestedBy: 'carol', reason: 'CHG-7' },
    });
  }, 90_000);

  it('refuses a project the config does not name without "(and redeploy)": the CLI reads its file', async () => {
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    const refused = await h.disableCli(['--config', config, '--project', P2]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/is not in the rotation config/);
    expect(refused.stderr).toContain(
      '→ Add the project to the config if this is really the project you mean.',
    );
    expect(refused.stderr).not.toContain('redeploy');
    expect(h.sim.requests).toHaveLength(0);
  });
});
