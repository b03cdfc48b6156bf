import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Block, ROOT } from './blocks.js';
import { SNIPPET_HEADER, SNIPPETS_DIR, snippetModule } from './snippets.js';

/** The two synths the docs need, each once: this repository's app, and the Quick start's. */

const run = promisify(execFile);

export interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  Outputs?: Record<string, unknown>;
}

export interface Synth {
  /** What the synth printed when it failed. */
  problem?: string;
  template?: Template;
}

export const resourcesOf = (t: Template, type: string) =>
  Object.values(t.Resources).filter((r) => r.Type === type);

const synthIn = async (
  dir: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
  templateFile: string,
): Promise<Synth> => {
  try {
    await run(process.execPath, ['--import', 'tsx', ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      maxBuffer: 50_000_000,
    });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    return { problem: `${e.stderr || e.stdout || e.message}`.slice(-4000) };
  } finally {
    // Nothing to keep but the template.
  }
  const template = JSON.parse(
    await readFile(join(dir, 'cdk.out', templateFile), 'utf8'),
  ) as Template;
  await rm(dir, { recursive: true, force: true });
  return { template };
};

/**
 * `infra/app.ts` as `npx cdk synth -c …` runs it (the cdk CLI passes the context and output
 * directory through CDK_CONTEXT_JSON and CDK_OUTDIR): `files` are written beside it and their
 * `-c` values point at them.
 */
export const synthRepoApp = async (
  context: Map<string, string>,
  files: Record<string, string>,
): Promise<Synth> => {
  await mkdir(SNIPPETS_DIR, { recursive: true });
  const dir = await mkdtemp(join(SNIPPETS_DIR, 'repo-app-'));
  const resolved = new Map(context);
  for (const [key, text] of Object.entries(files)) {
    const file = join(dir, `${key}.json`);
    await writeFile(file, text);
    resolved.set(key, file);
  }
  return synthIn(
    dir,
    ['infra/app.ts'],
    {
      cwd: ROOT,
      env: {
        CDK_CONTEXT_JSON: JSON.stringify(Object.fromEntries(resolved)),
        CDK_OUTDIR: join(dir, 'cdk.out'),
      },
    },
    `${resolved.get('stackName') ?? 'AtlasX509Rotator'}.template.json`,
  );
};

/**
 * The Quick start as an adopter's app runs it: its statements in a stack of a new app, in a
 * directory holding `rotation.config.json`, `atlas-x509-rotator` being this repository's
 * infra/index.ts.
 */
export const synthQuickStart = async (quick: Block, config: string): Promise<Synth> => {
  await mkdir(SNIPPETS_DIR, { recursive: true });
  const dir = await mkdtemp(join(SNIPPETS_DIR, 'quick-start-'));
  await writeFile(join(dir, 'rotation.config.json'), config);
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }');
  const module = snippetModule(quick)
    .replaceAll("'atlas-x509-rotator'", `'${join(ROOT, 'infra/index.ts')}'`)
    .replace(SNIPPET_HEADER, 'export async function snippet(): Promise<void> {')
    // The snippet's `stack` is the app's one stack.
    .replace(/declare const stack: [^;]+;/, "const stack = Reflect.get(globalThis, 'stack');");
  await writeFile(join(dir, 'snippet.ts'), module);
  await writeFile(
    join(dir, 'main.ts'),
    [
      "import { App, Stack } from 'aws-cdk-lib';",
      `const app = new App({ outdir: ${JSON.stringify(join(dir, 'cdk.out'))} });`,
      "(globalThis as { stack?: Stack }).stack = new Stack(app, 'QuickStart');",
      "const { snippet } = await import('./snippet.ts');",
      'await snippet();',
      'app.synth();',
    ].join('\n'),
  );
  return synthIn(dir, ['main.ts'], { cwd: dir }, 'QuickStart.template.json');
};
