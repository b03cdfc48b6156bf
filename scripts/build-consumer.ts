/**
 * The `atlas-x509-rotator/consumer` subpath (package.json `exports`), for applications:
 *
 *   dist/consumer/index.mjs and index.cjs   one source (functions/consumer/index.ts), ESM and
 *                                            CommonJS, its peers (`mongodb`, the Secrets Manager
 *                                            client) left to the application's own install.
 *   dist/lib/functions/consumer/index.d.cts the declarations tsc writes beside index.d.ts, copied:
 *                                            the file imports only packages, so one text serves
 *                                            `import` and `require` alike.
 */
import { randomUUID } from 'node:crypto';
import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CONSUMER_ENTRY = 'functions/consumer/index.ts';
export const CONSUMER_DIR = join(ROOT, 'dist/consumer');
const DECLARATIONS = join(ROOT, 'dist/lib/functions/consumer');

const writeIfChanged = async (path: string, contents: Uint8Array): Promise<void> => {
  const current = await readFile(path).catch(() => undefined);
  if (current && Buffer.compare(current, contents) === 0) return;
  await mkdir(dirname(path), { recursive: true });
  // Through a rename: a test importing the module while another process rebuilds never reads half.
  const temporary = `${path}.${process.pid}-${randomUUID()}.tmp`;
  await writeFile(temporary, contents);
  await rename(temporary, path);
};

/** Both module formats; part of `bundles` (the test setup rebuilds them with the handlers). */
export const buildConsumer = async (): Promise<void> => {
  await Promise.all(
    (['esm', 'cjs'] as const).map(async (format) => {
      const result = await build({
        absWorkingDir: ROOT,
        entryPoints: [CONSUMER_ENTRY],
        bundle: true,
        // Every package stays an import: the application's `mongodb` and AWS SDK, not copies.
        packages: 'external',
        platform: 'node',
        target: 'node20',
        format,
        // Readable in an application's stack traces; it is small.
        minify: false,
        write: false,
        logLevel: 'warning',
        outfile: join(CONSUMER_DIR, format === 'esm' ? 'index.mjs' : 'index.cjs'),
      });
      for (const file of result.outputFiles) await writeIfChanged(file.path, file.contents);
    }),
  );
};

/** After `tsc -p tsconfig.build.json`: the CommonJS twin of the consumer's declarations. */
export const copyConsumerDeclarations = async (): Promise<void> => {
  await copyFile(join(DECLARATIONS, 'index.d.ts'), join(DECLARATIONS, 'index.d.cts'));
};
