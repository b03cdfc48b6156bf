import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  checkMoto,
  checkNode,
  MOTO_MAJOR,
  motoVersionOf,
  olderThan,
  onPath,
} from '../../scripts/prerequisites.js';
import { ROOT } from '../support/harness.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'prereq-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A `moto_server` script whose Python says it has moto `version`. */
const fakeMoto = async (version: string): Promise<string> => {
  const bin = await mkdtemp(join(dir, 'bin-'));
  const python = join(bin, 'python3');
  await writeFile(python, `#!/bin/sh\necho ${version}\n`);
  await writeFile(join(bin, 'moto_server'), `#!${python}\nimport moto\n`);
  await chmod(python, 0o755);
  await chmod(join(bin, 'moto_server'), 0o755);
  return bin;
};

/** This PATH without any folder that holds a moto_server, plus the running Node's folder. */
const pathWithoutMoto = async (): Promise<string> => {
  const kept: string[] = [dirname(process.execPath)];
  for (const folder of (process.env.PATH ?? '').split(delimiter)) {
    if (folder && !(await onPath('moto_server', folder))) kept.push(folder);
  }
  return kept.join(delimiter);
};

describe('prerequisites', () => {
  it('compares versions against the engines minimum', () => {
    expect(olderThan('v20.18.3', [20, 19, 0])).toBe(true);
    expect(olderThan('v20.19.0', [20, 19, 0])).toBe(false);
    expect(olderThan('v24.1.0', [20, 19, 0])).toBe(false);
    expect(checkNode('v18.20.0')?.line).toMatch(
      /Node\.js v18\.20\.0 is too old: .*20\.19\.0.*nvm install 24/,
    );
    expect(checkNode('v24.22.3')).toBeUndefined();
  });

  it('names moto_server and its install command when the PATH lacks it', async () => {
    const problem = await checkMoto({ PATH: await pathWithoutMoto() });
    expect(problem?.line).toContain('moto_server (moto 5.x) is not on the PATH');
    expect(problem?.line).toContain(
      `pipx install "moto[server]>=${MOTO_MAJOR},<${MOTO_MAJOR + 1}"`,
    );
  });

  it('reads the moto version from the Python behind moto_server, and refuses an older major', async () => {
    const old = await fakeMoto('4.2.14');
    expect(await motoVersionOf(join(old, 'moto_server'))).toBe('4.2.14');
    const problem = await checkMoto({ PATH: old });
    expect(problem?.line).toMatch(
      /moto_server is moto 4\.2\.14; this project is tested on moto 5\.x: pipx install --force/,
    );
    expect(await checkMoto({ PATH: await fakeMoto('5.2.1') })).toBeUndefined();
  });

  it('checks that a given MOTO_ENDPOINT answers', async () => {
    expect(await checkMoto({ MOTO_ENDPOINT: inject('motoEndpoint') })).toBeUndefined();
    const problem = await checkMoto({ MOTO_ENDPOINT: 'http://127.0.0.1:9' });
    expect(problem?.line).toContain('no moto_server answers there');
  });
});

const runNpm = (
  script: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stderr: string; ms: number }> =>
  new Promise((resolve) => {
    const started = Date.now();
    const child = spawn('npm', ['run', '--silent', script], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code) => resolve({ code, stderr, ms: Date.now() - started }));
  });

describe('npm run demo and npm test without moto_server', () => {
  for (const [script, command] of [
    ['demo', 'npm run demo'],
    ['test', 'npm test'],
  ] as const) {
    it(`${command} prints one line naming it and exits non-zero within seconds`, async () => {
      const env: NodeJS.ProcessEnv = { ...process.env, PATH: await pathWithoutMoto() };
      delete env.MOTO_ENDPOINT;
      const result = await runNpm(script, env);
      expect(result.code).not.toBe(0);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toEqual([
        expect.stringContaining(`${command}: moto_server (moto 5.x) is not on the PATH`),
      ]);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(result.ms).toBeLessThan(15_000);
    });
  }
});
