import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The house a newcomer walks: the file maps (docs/architecture.md's "File map", README's
 * "Project layout") list every source file under functions/ and infra/ and nothing that is gone,
 * and no such file outgrows what a reader holds in their head (400 lines).
 */

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const sourceFiles = async (dir: string): Promise<string[]> => {
  const entries = await readdir(join(ROOT, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .sort();
};

/**
 * The paths a tree block names: two spaces of indent per level, a folder ends in `/`, a line may
 * name several entries (`bin.ts, cli.ts`) or a nested one (`rotate/handler.ts`); what follows two
 * spaces after the names is prose.
 */
const pathsInTree = (block: string): string[] => {
  const paths: string[] = [];
  const folders: string[] = [];
  for (const line of block.split('\n')) {
    const match = /^( *)(\S.*?)(?: {2,}.*)?$/.exec(line);
    if (!match?.[2]) continue;
    const depth = (match[1] ?? '').length / 2;
    if (!Number.isInteger(depth)) continue;
    folders.length = Math.min(folders.length, depth);
    for (const name of match[2].split(/,\s*/)) {
      if (!/^[\w.-]+(\/[\w.-]+)*\/?$/.test(name)) continue;
      const path = [...folders.slice(0, depth), name].join('');
      if (name.endsWith('/')) folders[depth] = name;
      else paths.push(path);
    }
  }
  return paths;
};

const treeAfter = async (file: string, heading: string): Promise<string> => {
  const text = await readFile(join(ROOT, file), 'utf8');
  const at = text.indexOf(`\n${heading}\n`);
  expect(at, `${file} has a "${heading}" section`).toBeGreaterThan(-1);
  const block = /```\n([\s\S]*?)```/.exec(text.slice(at));
  expect(block, `${file}'s "${heading}" holds a tree in a code block`).not.toBeNull();
  return block?.[1] ?? '';
};

describe.each([
  ['docs/architecture.md', '## File map'],
  ['README.md', '## Project layout'],
])('%s', (file, heading) => {
  it('lists every source file under functions/ and infra/, and none that is gone', async () => {
    const listed = new Set(pathsInTree(await treeAfter(file, heading)));
    const sources = [...(await sourceFiles('functions')), ...(await sourceFiles('infra'))];
    expect(
      sources.filter((s) => !listed.has(s)),
      'missing from the map',
    ).toEqual([]);
    const gone = [...listed].filter((p) => /^(functions|infra)\//.test(p) && !sources.includes(p));
    expect(gone, 'listed but not in the tree').toEqual([]);
  });
});

describe('pathsInTree', () => {
  it('reads folders, several names on a line and nested leaves', () => {
    const tree = [
      'functions/',
      '  domain/           pure',
      '    errors.ts, log.ts   named errors',
      '  rotate/handler.ts  thin handler',
      'infra/',
      '  construct.ts',
    ].join('\n');
    expect(pathsInTree(tree)).toEqual([
      'functions/domain/errors.ts',
      'functions/domain/log.ts',
      'functions/rotate/handler.ts',
      'infra/construct.ts',
    ]);
  });
});

describe('the house', () => {
  it('keeps every source file under functions/ and infra/ to 400 lines or fewer', async () => {
    const sources = [...(await sourceFiles('functions')), ...(await sourceFiles('infra'))];
    const long: string[] = [];
    for (const file of sources) {
      const lines = (await readFile(join(ROOT, file), 'utf8')).split('\n').length - 1;
      if (lines > 400) long.push(`${file}: ${lines} lines`);
    }
    expect(long).toEqual([]);
  });
});
