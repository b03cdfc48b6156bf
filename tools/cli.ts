import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository's root: the CLI runs from there, as `npm run rotate` does. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * How to start the CLI: the bundle the test setup built (ROTATOR_TEST_CLI), or the sources
 * under tsx (the demo and the scenarios, outside the tests).
 */
export const cliArgs = (command: string, args: readonly string[]): string[] => {
  const bundle = process.env.ROTATOR_TEST_CLI;
  return bundle
    ? [bundle, command, ...args]
    : ['--import', 'tsx', 'functions/bin.ts', command, ...args];
};

/**
 * Spawns the CLI's `<command>` with the given extra environment; a name given `undefined` is
 * left out (Node's spawn skips undefined values), e.g. the tests' own POWERTOOLS_LOG_LEVEL.
 */
export const runCli = (
  command: 'rotate' | 'disable-customer-x509',
  args: string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgs(command, args), {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
