import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunReport } from '../../functions/domain/report.js';
import packageJson from '../../package.json' with { type: 'json' };
import { daysFromNow, Harness, P1 } from '../support/harness.js';

let h: Harness;
beforeEach(async () => {
  h = await Harness.start();
});
afterEach(async () => h.close());

const PEM_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

describe('CLI (real child process)', () => {
  it('prints exactly one JSON report on stdout with --json, logs on stderr, exit 0', async () => {
    h.sim.addUser(P1, 'app1');
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    const result = await h.cli(['--config', config, '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as RunReport;
    expect(report.summary).toMatchObject({ users: 1, rotated: 1, failed: 0 });
    expect(Object.keys(report.users[0] ?? {})).toEqual(
      expect.arrayContaining([
        'projectId',
        'username',
        'secretName',
        'secretArn',
        'action',
        'reason',
        'serialNumber',
        'notAfter',
        'orphans',
      ]),
    );
  });

  it('prints a readable table without --json', async () => {
    h.sim.addUser(P1, 'app1');
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    const result = await h.cli(['--config', config, '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\(dry run: nothing minted or written\)/);
    expect(result.stdout).toMatch(/PROJECT\s+USER\s+ACTION\s+SERIAL\s+NOT AFTER\s+REASON/);
    expect(result.stdout).toMatch(
      new RegExp(`${P1}\\s+app1\\s+planned\\s+-\\s+-\\s+would mint: no certificate stored yet`),
    );
    expect(result.stdout).toMatch(
      /1 users: 0 rotated, 0 resumed, 0 skipped, 1 planned, 0 deferred, 0 failed, 0 orphans/,
    );
  });

  it('exits 1 when a user failed', async () => {
    h.sim.addUser(P1, 'scram', { x509Type: 'NONE', databaseName: 'admin' });
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['scram'] }] }),
    );
    const result = await h.cli(['--config', config, '--json']);
    expect(result.code).toBe(1);
    expect((JSON.parse(result.stdout) as RunReport).users[0]).toMatchObject({
      action: 'failed',
      errorCode: 'USER_NOT_MANAGED_X509',
    });
  });

  it.each([
    [
      'a config error, naming the field',
      async () => [
        '--config',
        await h.writeConfig({
          projects: [{ projectId: P1, users: [{ username: 'a', monthsUntilExpiration: 30 }] }],
        }),
      ],
      /projects\[0\]\.users\[0\]\.monthsUntilExpiration: must be at most 24/,
    ],
    [
      'a missing config file',
      async () => ['--config', '/nonexistent/rotation.json'],
      /cannot read the file: ENOENT/,
    ],
    [
      '--force without --only or --all',
      async () => [
        '--config',
        await h.writeConfig(h.config({ projects: [{ projectId: P1, users: ['a'] }] })),
        '--force',
      ],
      /^Invalid options: --force needs --only <projectId>:<username> or --all\n→ See `atlas-x509-rotator rotate --help`/,
    ],
    [
      'a malformed --only',
      async () => ['--config', 'x.json', '--only', 'app1'],
      /--only expects <projectId>:<username>/,
    ],
    [
      'an unknown flag',
      async () => ['--config', 'x.json', '--frobnicate'],
      /Unknown option '--frobnicate'/,
    ],
    ['a missing --config', async () => ['--dry-run'], /--config is required/],
  ])('exits 2 for %s, before any Atlas call', async (_label, args, message) => {
    const result = await h.cli(await args());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
    expect(h.sim.requests).toHaveLength(0);
  });

  it('fails clearly when the lease table is missing, saying so once', async () => {
    h.sim.addUser(P1, 'app1');
    h.sim.addUser(P1, 'app2');
    const config = await h.writeConfig({
      ...h.config({ projects: [{ projectId: P1, users: ['app1', 'app2'] }] }),
      locks: { tableName: 'no-such-table' },
    });
    const result = await h.cli(['--config', config]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /Run stopped: Lease table no-such-table does not exist \[LEASE_TABLE_MISSING\] → .*aws dynamodb create-table --table-name no-such-table/,
    );
    expect(`${result.stdout}${result.stderr}`.match(/create-table/g)).toHaveLength(1);
    expect(h.sim.count('POST', '/certs')).toBe(0);
  });

  it('fails clearly without Atlas credentials', async () => {
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    const result = await h.cli(['--config', config], {});
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /No Atlas credentials found\n→ Set MONGODB_ATLAS_CLIENT_ID and MONGODB_ATLAS_CLIENT_SECRET/,
    );
  });

  it('--time-budget: a throttled create whose retry would start too late is deferred, and the report comes at once', async () => {
    h.sim.addUser(P1, 'app1');
    // Every create is refused with Retry-After: 30. With 100 s, the work ends at 90 s and a
    // create must start by 25 s (65 s for it and its key's store): the retry at ~31 s is not made.
    h.sim.injectFault({
      method: 'POST',
      path: '/certs',
      times: Number.POSITIVE_INFINITY,
      action: {
        type: 'error',
        status: 429,
        errorCode: 'RATE_LIMITED_TOKEN_BUCKET',
        retryAfter: 30,
      },
    });
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    const started = Date.now();
    const result = await h.cli(['--config', config, '--json', '--time-budget', '100']);
    const report = JSON.parse(result.stdout) as RunReport;
    expect(report.users[0]).toMatchObject({ action: 'deferred' });
    expect(report.users[0]?.reason).toMatch(/a retry in 30000 ms would start too late/);
    expect(h.sim.count('POST', '/certs')).toBe(1);
    expect(h.sim.certificates(P1, 'app1')).toHaveLength(0);
    // Not a wait for Retry-After, let alone for the budget.
    expect(Date.now() - started).toBeLessThan(25_000);
  });

  it('--time-budget below the report reserve is a usage error', async () => {
    const result = await h.cli(['--config', 'x.json', '--time-budget', '5']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--time-budget must be a number of seconds above 10/);
  });

  it('two CLI runs started at once mint at most one certificate per user', async () => {
    const users = ['u1', 'u2', 'u3'];
    for (const u of users) h.sim.addUser(P1, u);
    await h.seed(P1, 'u3', { notBefore: daysFromNow(-85), notAfter: daysFromNow(5) });
    const config = await h.writeConfig(h.config({ projects: [{ projectId: P1, users }] }));
    const [a, b] = await Promise.all([
      h.cli(['--config', config, '--json']),
      h.cli(['--config', config, '--json']),
    ]);
    const rows = [
      ...(JSON.parse(a.stdout) as RunReport).users,
      ...(JSON.parse(b.stdout) as RunReport).users,
    ];
    for (const u of users) {
      const mine = rows.filter((r) => r.username === u);
      expect(mine.filter((r) => r.action === 'rotated')).toHaveLength(1);
      expect(mine.every((r) => r.action === 'rotated' || r.action === 'skipped')).toBe(true);
    }
    expect(h.sim.count('POST', '/certs')).toBe(users.length);
  });
});

describe('secrecy', () => {
  it('no private key, client secret, API key or bearer token reaches stdout, stderr or the report, even at DEBUG', async () => {
    h.sim.addApiKey('pub-key-1', 'priv-api-key-secret-7f3a');
    for (const u of ['app1', 'billing']) h.sim.addUser(P1, u);
    await h.seed(P1, 'billing', { notBefore: daysFromNow(-85), notAfter: daysFromNow(5) });
    h.sim.injectFault({
      method: 'POST',
      path: '/certs',
      action: { type: 'mangleCreate', mangle: 'wrongKey' },
    });
    h.sim.injectFault({ method: 'POST', path: '/certs', action: { type: 'resetAfterProcessing' } });
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1', 'billing'] }] }),
    );
    const debug = { POWERTOOLS_LOG_LEVEL: 'DEBUG' };

    const outputs = [
      await h.cli(['--config', config, '--json'], { ...h.atlasEnv, ...debug }),
      await h.cli(['--config', config, '--force', '--all'], { ...h.atlasEnv, ...debug }),
      await h.cli(['--config', config], {
        MONGODB_ATLAS_PUBLIC_API_KEY: 'pub-key-1',
        MONGODB_ATLAS_PRIVATE_API_KEY: 'priv-api-key-secret-7f3a',
        ...debug,
      }),
      await h.cli(['--config', config], {
        MONGODB_ATLAS_CLIENT_ID: h.clientId,
        MONGODB_ATLAS_CLIENT_SECRET: 'wrong-secret-0c1d',
        ...debug,
      }),
    ];
    const text = outputs.map((o) => o.stdout + o.stderr).join('\n');
    expect(text).toMatch(/"level":"DEBUG"/); // debug logging really was on
    expect(text).toMatch(/rotated/);
    expect(text).not.toMatch(PEM_KEY);
    for (const secret of [
      h.clientSecret,
      'priv-api-key-secret-7f3a',
      'wrong-secret-0c1d',
      Buffer.from(`${h.clientId}:${h.clientSecret}`).toString('base64'),
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(text).not.toMatch(/Bearer\s+\S/i);
    expect(text).not.toMatch(/Digest\s+username=/i);
    // The minted keys themselves: none of their base64 lines appears anywhere.
    const { readSecret } = await import('../../tools/aws/seed.js');
    const stored = await readSecret(h.secretName(P1, 'app1'));
    const keyLine = stored.current.privateKey.split('\n')[5] ?? '';
    expect(keyLine.length).toBeGreaterThan(40);
    expect(text).not.toContain(keyLine);
  });
});

describe('the command itself', () => {
  const run = promisify(execFile);
  const cli = (node: string, args: string[], env: Record<string, string> = {}) => {
    const { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: _, ...rest } = process.env;
    return run(node, [String(process.env.ROTATOR_TEST_CLI), ...args], { env: { ...rest, ...env } });
  };

  it('lists its commands on --help and --version prints the package version', async () => {
    const help = await cli(process.execPath, ['--help']);
    expect(help.stdout).toMatch(/^Usage: atlas-x509-rotator <command>/);
    expect(help.stdout).toMatch(/\n {2}rotate .*\n {2}disable-customer-x509 /);
    const version = await cli(process.execPath, ['--version']);
    expect(version.stdout.trim()).toBe(packageJson.version);
    await expect(cli(process.execPath, ['rotat'])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/^Unknown command "rotat"\n\nUsage: atlas-x509-rotator/),
    });
  });

  // The suite's Node (24 under npm test) and the machine's (`node` on PATH: 20 here): the
  // SDK's nine-line warning never shows; one line notes a Node below 22, only when a command runs.
  it.each([
    ['the suite', process.execPath],
    ['the machine', 'node'],
  ])("on %s's Node: help is quiet, a run notes an end-of-life Node once", async (_, node) => {
    const help = await cli(node, ['rotate', '--help']);
    expect(help.stderr).toBe('');
    h.sim.addUser(P1, 'app1');
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    const { stdout: version } = await run(node, ['--version']);
    const dryRun = await cli(node, ['rotate', '--config', config, '--dry-run'], h.atlasEnv);
    expect(dryRun.stdout).toMatch(/1 planned/);
    expect(dryRun.stderr).not.toMatch(/NodeVersionSupportWarning/);
    const notes = dryRun.stderr.match(/is past its end of life/g) ?? [];
    expect(notes).toHaveLength(Number(version.slice(1).split('.')[0]) < 22 ? 1 : 0);
  });

  // `script` runs the command on a pseudo-terminal, as an operator's shell would.
  const onTerminal = async (args: string[], env: Record<string, string>) => {
    const command = [process.execPath, String(process.env.ROTATOR_TEST_CLI), ...args].join(' ');
    const result = await run('script', ['-qefc', command, '/dev/null'], {
      env: { ...process.env, ...env },
    }).catch((err: { code: number; stdout: string; stderr: string }) => err);
    // On failure the terminal's output (the CLI's stdout and stderr together) says why.
    expect(result.stdout).toMatch(/planned/);
    return result;
  };

  it('colours the table on a terminal only, never with NO_COLOR or when piped', async () => {
    h.sim.addUser(P1, 'app1');
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    const args = ['rotate', '--config', config, '--dry-run'];
    const ESC = String.fromCharCode(27);
    const piped = await cli(process.execPath, args, h.atlasEnv);
    expect(piped.stdout).toMatch(/planned/);
    expect(piped.stdout).not.toContain(ESC);
    const terminal = await onTerminal(args, h.atlasEnv);
    expect(terminal.stdout).toContain(`${ESC}[36mplanned`);
    const noColor = await onTerminal(args, { ...h.atlasEnv, NO_COLOR: '1' });
    expect(noColor.stdout).toMatch(/planned/);
    expect(noColor.stdout).not.toContain(`${ESC}[36m`);
  });

  it('says what was wrong in flags, not in Lambda payloads', async () => {
    const config = await h.writeConfig(
      h.config({ projects: [{ projectId: P1, users: ['app1'] }] }),
    );
    await expect(
      cli(process.execPath, ['rotate', '--config', config, '--force', '--only', 'nope:app1']),
    ).rejects.toMatchObject({
      code: 2,
      stderr:
        'Invalid options: --only #1: the project id: must be a 24-character hex project id\n→ See `atlas-x509-rotator rotate --help`.\n',
    });
    expect(h.sim.requests).toHaveLength(0);
  });
});
