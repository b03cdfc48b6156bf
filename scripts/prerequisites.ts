/**
 * What `npm run demo` and `npm test` need from the machine, checked before they start anything:
 * Node.js of the engines range, and moto_server (moto 5.x) on the PATH, or a moto_server that
 * answers at MOTO_ENDPOINT. Each missing or too old prerequisite is one line naming it and the
 * command that installs it; no stack trace.
 *
 * Run alone: `npx tsx scripts/prerequisites.ts` (exit 1 when something is missing).
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, open } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { motoAnswers } from '../tools/aws/moto.js';

const run = promisify(execFile);

/** The moto major this project is tested on (CI's machines carry moto 5.2.1). */
export const MOTO_MAJOR = 5;
/** package.json's engines range, as the lowest version it accepts. */
export const NODE_MINIMUM = [20, 19, 0] as const;

export const INSTALL_MOTO = `pipx install "moto[server]>=${MOTO_MAJOR},<${MOTO_MAJOR + 1}"`;
const INSTALL_MOTO_HINT = `${INSTALL_MOTO} (Linux and macOS; pipx from your package manager or \`brew install pipx\`)`;
const INSTALL_NODE =
  'install Node.js 24 (e.g. `nvm install 24`, `fnm install 24` or `brew install node@24`)';

export interface Problem {
  /** The prerequisite, as a reader would name it. */
  what: string;
  /** One line: what is wrong and the command that fixes it. */
  line: string;
}

/** `true` when `version` (e.g. `v20.18.3`) is below `minimum`. */
export const olderThan = (version: string, minimum: readonly number[]): boolean => {
  const parts = version.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < minimum.length; i++) {
    const have = parts[i] ?? 0;
    const need = minimum[i] ?? 0;
    if (have !== need) return have < need;
  }
  return false;
};

export const checkNode = (version = process.version): Problem | undefined =>
  olderThan(version, NODE_MINIMUM)
    ? {
        what: 'Node.js',
        line: `Node.js ${version} is too old: this project needs ${NODE_MINIMUM.join('.')} or later; ${INSTALL_NODE}.`,
      }
    : undefined;

/** The first executable called `name` on `path`, as a shell would find it. */
export const onPath = async (
  name: string,
  path = process.env.PATH ?? '',
): Promise<string | undefined> => {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
};

const firstLine = async (file: string): Promise<string> => {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0);
    return buffer.subarray(0, bytesRead).toString('utf8').split('\n')[0] ?? '';
  } finally {
    await handle.close();
  }
};

/**
 * The Python that runs a `moto_server` script: its shebang (pip, pipx, venvs, Homebrew), or,
 * for a pyenv shim (a shell script), the script pyenv resolves it to.
 */
const interpreterOf = async (script: string): Promise<string[] | undefined> => {
  const shebang = await firstLine(script);
  if (/^#!.*python[0-9.]*\s*$/.test(shebang)) return shebang.slice(2).trim().split(/\s+/);
  try {
    const { stdout } = await run('pyenv', ['which', 'moto_server'], { timeout: 5_000 });
    const resolved = stdout.trim();
    return resolved && resolved !== script ? interpreterOf(resolved) : undefined;
  } catch {
    return undefined;
  }
};

/** The moto version installed beside a `moto_server` script, when its Python can be found. */
export const motoVersionOf = async (script: string): Promise<string | undefined> => {
  const [python, ...args] = (await interpreterOf(script)) ?? [];
  if (!python) return undefined;
  try {
    const { stdout } = await run(
      python,
      [...args, '-c', "import importlib.metadata as m; print(m.version('moto'))"],
      { timeout: 10_000 },
    );
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
};

export const motoMajorProblem = (version: string | undefined): Problem | undefined => {
  if (version === undefined) return undefined;
  const major = Number(version.split('.')[0]);
  return major < MOTO_MAJOR
    ? {
        what: 'moto_server',
        line: `moto_server is moto ${version}; this project is tested on moto ${MOTO_MAJOR}.x: ${INSTALL_MOTO.replace('pipx install', 'pipx install --force')}`,
      }
    : undefined;
};

export const checkMoto = async (
  env: NodeJS.ProcessEnv = process.env,
): Promise<Problem | undefined> => {
  const given = env.MOTO_ENDPOINT;
  if (given) {
    return (await motoAnswers(given))
      ? undefined
      : {
          what: 'moto_server',
          line: `MOTO_ENDPOINT is ${given}, but no moto_server answers there: start one (moto_server -p PORT) or unset MOTO_ENDPOINT to let the suite start its own.`,
        };
  }
  const script = await onPath('moto_server', env.PATH);
  if (!script) {
    return {
      what: 'moto_server',
      line: `moto_server (moto ${MOTO_MAJOR}.x) is not on the PATH: install it with ${INSTALL_MOTO_HINT}.`,
    };
  }
  return motoMajorProblem(await motoVersionOf(script));
};

export const checkPrerequisites = async (
  env: NodeJS.ProcessEnv = process.env,
): Promise<Problem[]> =>
  [checkNode(), await checkMoto(env)].filter((p): p is Problem => p !== undefined);

/** Prints each problem on one line and sets a non-zero exit; `true` when all is there. */
export const requirePrerequisites = async (command: string): Promise<boolean> => {
  const problems = await checkPrerequisites();
  for (const p of problems) process.stderr.write(`${command}: ${p.line}\n`);
  if (problems.length > 0) process.exitCode = 1;
  return problems.length === 0;
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const command = process.argv[2] ?? 'prerequisites';
  void requirePrerequisites(command);
}
