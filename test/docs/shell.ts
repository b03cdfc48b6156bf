import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from './blocks.js';

/** Runs documented shell commands: through bash, as a reader's shell would read them. */

export interface ShellResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export const bash = (
  script: string,
  options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs?: number },
): Promise<ShellResult> =>
  new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so background jobs a script starts die with it.
      detached: true,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
      stderr += `\n(killed after ${options.timeoutMs} ms)`;
    }, options.timeoutMs ?? 60_000);
    child.once('error', reject);
    let exitCode: number | null = null;
    // Background jobs (moto_server, the simulator) keep the pipes open: when bash itself exits,
    // end its process group, then read what is left.
    child.once('exit', (code) => {
      exitCode = code;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGTERM');
      } catch {
        // the group is gone already
      }
    });
    child.once('close', () => {
      clearTimeout(timer);
      resolve({ code: exitCode, stdout, stderr });
    });
  });

/**
 * `<RotateFunctionName>`, `<rotate function>`: what a reader replaces before running a command
 * (a shell would read `<` as a redirect), as a word.
 */
export const fillPlaceholders = (text: string): string =>
  text.replace(/<([A-Za-z][^<>\n]*)>/g, (_m, name: string) => name.trim().replace(/\W+/g, '-'));

/** `bash -n`: the block parses as shell (quotes, continuations, here-documents closed). */
export const shellSyntaxError = async (text: string): Promise<string | undefined> => {
  const result = await bash(`bash -n <<'__BLOCK__'\n${fillPlaceholders(text)}\n__BLOCK__`, {
    cwd: tmpdir(),
  });
  return result.code === 0 ? undefined : result.stderr.trim();
};

/**
 * The arguments the `aws` CLI would receive from one documented command: bash expands the line
 * (quotes, `$(date …)`, variables) with `aws` replaced by a function that writes its arguments.
 */
export const awsArgv = async (command: string): Promise<string[]> => {
  const dir = await mkdtemp(join(tmpdir(), 'docs-aws-'));
  const out = join(dir, 'argv');
  try {
    const script = `aws() { for a in "$@"; do printf '%s\\0' "$a"; done > '${out}'; }\n${command}`;
    const result = await bash(script, { cwd: dir });
    if (!existsSync(out)) throw new Error(`bash did not reach \`aws\`: ${result.stderr.trim()}`);
    return (await readFile(out, 'utf8')).split('\0').slice(0, -1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

/**
 * A Python that has botocore (the AWS CLI's service models): DOCS_PYTHON, python3, or the
 * interpreter moto_server runs on (moto depends on botocore).
 */
const pythonWithBotocore = async (): Promise<string> => {
  const run = promisify(execFile);
  const candidates = [process.env.DOCS_PYTHON, 'python3'];
  try {
    const { stdout } = await run('bash', ['-c', 'command -v moto_server']);
    const first = readFileSync(stdout.trim(), 'utf8').split('\n')[0] ?? '';
    if (first.startsWith('#!') && first.includes('python')) candidates.push(first.slice(2).trim());
  } catch {
    // no moto_server on the PATH: the other candidates
  }
  for (const python of candidates) {
    if (!python) continue;
    try {
      await run(python, ['-c', 'import botocore']);
      return python;
    } catch {
      // next
    }
  }
  throw new Error(
    'No Python with botocore found (python3, or the one moto_server runs on): the AWS commands of the docs cannot be checked. Set DOCS_PYTHON.',
  );
};

/** Each command's problems against the AWS CLI's service model, by id. */
export const awsModelProblems = async (
  commands: { id: string; argv: string[] }[],
): Promise<Map<string, string[]>> => {
  const python = await pythonWithBotocore();
  const answer = await new Promise<string>((resolve, reject) => {
    const child = execFile(
      python,
      [join(ROOT, 'test/docs/aws-model.py')],
      { maxBuffer: 10_000_000 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
    );
    child.stdin?.end(JSON.stringify(commands));
  });
  const parsed = JSON.parse(answer) as { id: string; problems: string[] }[];
  return new Map(parsed.map((p) => [p.id, p.problems]));
};
