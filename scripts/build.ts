/**
 * `npm run build`: what the package ships, built from the sources.
 *
 *   bundles  the two Lambda handlers (dist/assets/<name>/index.mjs, the AWS SDK inside, so the
 *            retry behaviour the tests prove is what runs) and the CLI (dist/cli.mjs). esbuild,
 *            about a second; the test setup runs this part before every suite.
 *   lib      the construct library with its types (dist/lib, `tsc -p tsconfig.build.json`).
 *
 * `tsx scripts/build.ts [bundles|lib]`, both without an argument (what `prepack` runs).
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type BuildOptions, build, type Plugin } from 'esbuild';
import { HANDLERS } from '../infra/handlers.js';
import { buildConsumer, copyConsumerDeclarations } from './build-consumer.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The bundled CLI's entry (package.json `bin`). */
export const CLI = join(ROOT, 'dist/cli/atlas-x509-rotator.mjs');

/**
 * ESM bundles of CommonJS dependencies (undici, the AWS SDK) call `require` for Node
 * built-ins, which ESM lacks: without this they crash at load.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module';const require = createRequire(import.meta.url);";

/**
 * The `mongodb` driver's optional peers (compression, Kerberos, cloud credentials, SOCKS, CSFLE):
 * the driver `require`s each inside a try and works without it, and the login check needs none.
 * External, so an install that happens to hold one never bundles it; at run time the require
 * fails and the driver goes on without it.
 */
export const DRIVER_OPTIONAL_PEERS = [
  'kerberos',
  'snappy',
  '@mongodb-js/zstd',
  'mongodb-client-encryption',
  '@aws-sdk/credential-providers',
  'gcp-metadata',
  'socks',
  'aws4',
];

const common: BuildOptions = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  format: 'esm',
  mainFields: ['module', 'main'],
  minify: true,
  // Errors carry class names the logs and reports show.
  keepNames: true,
  logLevel: 'warning',
  write: false,
  external: DRIVER_OPTIONAL_PEERS,
};

/**
 * Writes only what changed, each file through a rename: a test that loads a bundle while
 * another process rebuilds it never reads half a file.
 */
const writeAtomically = async (path: string, contents: Uint8Array): Promise<void> => {
  const current = await readFile(path).catch(() => undefined);
  if (current && Buffer.compare(current, contents) === 0) return;
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}-${randomUUID()}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, path);
};

/** Builds, writes what changed, and removes what an earlier build left in the output folder. */
const emit = async (options: BuildOptions): Promise<void> => {
  const result = await build({ ...common, ...options });
  const written = new Set<string>();
  for (const file of result.outputFiles ?? []) {
    await writeAtomically(file.path, file.contents);
    written.add(file.path);
  }
  const folder = options.outdir ?? dirname(options.outfile ?? '');
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    const path = join(entry.parentPath, entry.name);
    // A .tmp file is another build's write in flight (the test setup runs once per project).
    if (entry.isFile() && !written.has(path) && !path.endsWith('.tmp'))
      await rm(path, { force: true });
  }
};

/**
 * The login check (the `mongodb` driver, about 850 KB) ships beside the rotate handler as
 * `login-check.mjs`, a bundle of its own that the handler imports on the first check: parsing
 * it inside index.mjs would cost every cold start, checks or not, some 60 ms.
 */
export const LOGIN_CHECK_ENTRY = 'functions/adapters/mongodb/login-check.ts';
export const LOGIN_CHECK_FILE = 'login-check.mjs';

const loginCheckBeside: Plugin = {
  name: 'login-check-beside',
  setup(b) {
    b.onResolve({ filter: /^\.\/login-check\.js$/ }, (args) =>
      args.importer.endsWith(join('adapters', 'mongodb', 'lazy.ts'))
        ? { path: `./${LOGIN_CHECK_FILE}`, external: true }
        : undefined,
    );
  },
};

export const buildBundles = async (): Promise<void> => {
  await Promise.all([
    ...HANDLERS.map(({ name, entry }) =>
      emit({
        // Only the rotate handler checks logins; the disable one never reaches the import.
        entryPoints: {
          index: entry,
          ...(name === 'rotate'
            ? { [LOGIN_CHECK_FILE.replace(/\.mjs$/, '')]: LOGIN_CHECK_ENTRY }
            : {}),
        },
        outdir: join(ROOT, 'dist/assets', name),
        outExtension: { '.js': '.mjs' },
        plugins: [loginCheckBeside],
        target: 'node24', // Lambda's nodejs24.x
        banner: { js: ESM_REQUIRE_BANNER },
        // Maps without embedded sources: small, and enough to name file and line.
        sourcemap: true,
        sourcesContent: false,
      }),
    ),
    // Split: the runtime (the SDK, undici, Powertools) is its own chunk, loaded only when a
    // command runs, so `--help` parses a fraction of the code.
    emit({
      entryPoints: { 'atlas-x509-rotator': 'functions/bin.ts' },
      outdir: join(ROOT, 'dist/cli'),
      splitting: true,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunks/[name]-[hash]',
      target: 'node20',
      // The shebang is harmless in the chunks: ES modules may start with one.
      banner: { js: `#!/usr/bin/env node\n${ESM_REQUIRE_BANNER}` },
    }),
    buildConsumer(),
  ]);
  await chmod(CLI, 0o755);
};

export const buildLib = async (): Promise<void> => {
  await rm(join(ROOT, 'dist/lib'), { recursive: true, force: true });
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: ROOT,
  }).catch((err: { stdout?: string }) => {
    throw new Error(`tsc -p tsconfig.build.json failed:\n${err.stdout ?? String(err)}`);
  });
  await copyConsumerDeclarations();
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const part = process.argv[2];
  if (part !== undefined && part !== 'bundles' && part !== 'lib') {
    process.stderr.write(`Unknown part "${part}": expected bundles or lib\n`);
    process.exit(2);
  }
  if (part !== 'lib') await buildBundles();
  if (part !== 'bundles') await buildLib();
}
