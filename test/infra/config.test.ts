import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/domain/config/errors.js';
import { loadConfigFile } from '../../functions/domain/config/load.js';
import { MIN_ROTATE_TIMEOUT_SECONDS } from '../../functions/domain/timing.js';
import { readConfigFile } from '../../infra/config.js';
import { checkRotateTimeout } from '../../infra/rotate-function.js';
import { caught, exampleConfig, PROJECT_A, synth } from './support.js';

const CDK_CLI = fileURLToPath(new URL('../../node_modules/aws-cdk/bin/cdk', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'atlas-x509-infra-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const badConfig = {
  projects: [{ projectId: PROJECT_A, users: [{ username: 'app1', monthsUntilExpiration: 30 }] }],
};

describe('config validation at synth time', () => {
  it('refuses a bad config with ConfigError naming the field', () => {
    const err = caught(() => synth({ config: badConfig, configSource: 'rotation.config.json' }));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toEqual([
      'projects[0].users[0].monthsUntilExpiration: must be at most 24 (the Atlas maximum)',
    ]);
    expect((err as ConfigError).message).toContain(
      'Invalid rotation config in rotation.config.json',
    );
  });

  it('reads a file with exactly the functions’ messages', async () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify(badConfig));
    const [ours, theirs] = await Promise.all(
      [readConfigFile(path), loadConfigFile(path)].map((p) => p.catch((e: unknown) => e)),
    );
    expect(ours).toBeInstanceOf(ConfigError);
    expect((ours as ConfigError).message).toBe((theirs as ConfigError).message);
  });

  it('returns the raw file, which is what ships', async () => {
    const path = join(dir, 'good.json');
    writeFileSync(path, JSON.stringify(exampleConfig()));
    expect(await readConfigFile(path)).toEqual(exampleConfig());
  });

  it('refuses an empty secret name prefix: IAM is scoped to it', () => {
    const config = { ...exampleConfig(), defaults: { secretNamePrefix: '' } };
    const err = caught(() => synth({ config }));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues[0]).toMatch(
      /^defaults\.secretNamePrefix: must not be empty/,
    );
  });

  it('refuses consumers of unknown projects and malformed principals', () => {
    const unknown = caught(() => synth({ consumers: { '0123456789abcdef01234567': [] } }));
    expect((unknown as ConfigError).issues).toEqual([
      'consumers.0123456789abcdef01234567: not a project of the rotation config',
    ]);
    const malformed = caught(() => synth({ consumers: { [PROJECT_A]: ['app1-reader'] } }));
    expect(malformed).toBeInstanceOf(ConfigError);
    expect((malformed as ConfigError).issues[0]).toMatch(
      new RegExp(`^consumers\\.${PROJECT_A}\\[0\\]: must be an IAM principal ARN`),
    );
  });

  it('refuses a credential the rotate function could overwrite', () => {
    const config = exampleConfig();
    const err = caught(() =>
      synth({ config: { ...config, atlas: { credentialsSecretId: 'atlas-x509/admin' } } }),
    );
    expect((err as ConfigError).issues).toEqual([
      'atlas.credentialsSecretId: "atlas-x509/admin" lies under defaults.secretNamePrefix "atlas-x509/", where the rotate function may write; keep credentials elsewhere',
    ]);
  });

  it('refuses a timeout longer than the lease', () => {
    expect(() =>
      synth({
        timeout: Duration.minutes(15),
        config: { ...exampleConfig(), locks: { leaseSeconds: 600 } },
      }),
    ).toThrow(/timeout \(900 s\) exceeds locks.leaseSeconds \(600 s\)/);
  });

  it('refuses a timeout too short to ever mint, naming the minimum', () => {
    expect(() => synth({ timeout: Duration.seconds(60) })).toThrow(
      `timeout (60 s) is too short to ever mint: a run needs at least ${MIN_ROTATE_TIMEOUT_SECONDS} s`,
    );
    // The minimum itself passes the same check (a whole synthesis would cost seconds).
    expect(() =>
      checkRotateTimeout(Duration.seconds(MIN_ROTATE_TIMEOUT_SECONDS), 900),
    ).not.toThrow();
  });

  it('fails `cdk synth` with the same message, and no stack trace', () => {
    const path = join(dir, 'synth-bad.json');
    writeFileSync(path, JSON.stringify(badConfig));
    // The cdk CLI itself (node_modules/aws-cdk), without npx's own start-up.
    const result = spawnSync(
      process.execPath,
      [CDK_CLI, 'synth', '--quiet', '-c', `config=${path}`, '-o', join(dir, 'cdk.out')],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `Invalid rotation config in ${path}:\n  - projects[0].users[0].monthsUntilExpiration: must be at most 24 (the Atlas maximum)`,
    );
    expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });
});
