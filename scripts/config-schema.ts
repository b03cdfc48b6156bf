/**
 * `npx tsx scripts/config-schema.ts [--check] [file]`: writes the JSON Schema of the rotation
 * config, generated from its one zod schema, to `schema/rotation-config.schema.json` (or `file`).
 * With `--check` it writes nothing and exits 1 when the file says anything else than the zod
 * schema; layout is left to `npm run lint`.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { configJsonSchema } from '../functions/domain/config/json-schema.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SCHEMA_FILE = 'schema/rotation-config.schema.json';
const REGENERATE = 'npx tsx scripts/config-schema.ts';
const BIOME = join(ROOT, 'node_modules/@biomejs/biome/bin/biome');

/** Biome's layout (it joins short arrays), so a freshly written file passes the lint as is. */
const format = (json: string): string => {
  const biome = spawnSync(process.execPath, [BIOME, 'format', `--stdin-file-path=${SCHEMA_FILE}`], {
    cwd: ROOT,
    input: json,
    encoding: 'utf8',
  });
  if (biome.status === 0 && biome.stdout) return biome.stdout;
  console.warn(`biome format failed, writing plain JSON: ${biome.stderr || biome.error}`);
  return json;
};

/** The committed file's content, or why it cannot be compared. */
const readCommitted = async (file: string): Promise<{ json: unknown } | { problem: string }> => {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { problem: `cannot read it (${(err as NodeJS.ErrnoException).code ?? err})` };
  }
  try {
    return { json: JSON.parse(text) };
  } catch (err) {
    return { problem: `it is not valid JSON (${(err as Error).message})` };
  }
};

/** Paths as the user typed them, not where the script happens to live. */
const shown = (file: string): string => relative(process.cwd(), file) || file;

const check = async (file: string): Promise<number> => {
  const committed = await readCommitted(file);
  const problem =
    'problem' in committed
      ? committed.problem
      : isDeepStrictEqual(committed.json, configJsonSchema())
        ? undefined
        : 'it differs from the schema functions/domain/config/schema.ts produces';
  if (problem === undefined) {
    console.log(`${shown(file)} matches functions/domain/config/schema.ts`);
    return 0;
  }
  console.error(
    `${shown(file)} is out of date: ${problem}. Run \`${REGENERATE}\` and commit the result.`,
  );
  return 1;
};

const write = async (file: string): Promise<number> => {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, format(`${JSON.stringify(configJsonSchema(), null, 2)}\n`));
  console.log(`wrote ${shown(file)}`);
  return 0;
};

const main = async (args: readonly string[]): Promise<number> => {
  const unknown = args.filter((a) => a.startsWith('-') && a !== '--check');
  const files = args.filter((a) => !a.startsWith('-'));
  if (unknown.length > 0 || files.length > 1) {
    console.error('usage: npx tsx scripts/config-schema.ts [--check] [file]');
    return 2;
  }
  const file = resolve(files[0] ?? join(ROOT, SCHEMA_FILE));
  return args.includes('--check') ? check(file) : write(file);
};

process.exitCode = await main(process.argv.slice(2));
