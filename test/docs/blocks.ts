import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The fenced code blocks a reader copies from the docs: README.md, docs/**.md and
 * examples/**\/README.md, each with where it starts (file:line) so a failure points at it.
 */

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Block {
  /** Relative to the repository, e.g. `docs/deploy.md`. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The fence's info string (`sh`, `json`, `ts`, or '' for none). */
  lang: string;
  /** The body, its common indentation removed (blocks inside list items are indented). */
  text: string;
}

const markdownUnder = (dir: string, onlyReadme: boolean): string[] =>
  readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && (onlyReadme ? e.name === 'README.md' : e.name.endsWith('.md')))
    .filter((e) => !e.parentPath.includes('node_modules') && !e.parentPath.includes('cdk.out'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .sort();

/** Every markdown file whose blocks the suite runs. */
export const docFiles = (): string[] => [
  'README.md',
  ...markdownUnder('docs', false),
  ...markdownUnder('examples', true),
];

const dedent = (lines: string[]): string => {
  const indents = lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut)).join('\n');
};

/** The fenced blocks of one markdown text. */
export const blocksOf = (file: string, markdown: string): Block[] => {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  let open: { line: number; lang: string; fence: string; body: string[] } | undefined;
  lines.forEach((text, i) => {
    const fence = /^(\s*)(`{3,})\s*([\w-]*)/.exec(text);
    if (!open && fence?.[2]) {
      open = { line: i + 1, lang: fence[3] ?? '', fence: fence[2], body: [] };
    } else if (open && fence?.[2] && fence[2].length >= open.fence.length && !fence[3]) {
      blocks.push({ file, line: open.line, lang: open.lang, text: dedent(open.body) });
      open = undefined;
    } else if (open) {
      open.body.push(text);
    }
  });
  if (open) throw new Error(`${file}:${open.line}: a code fence is never closed`);
  return blocks;
};

export const allBlocks = (): Block[] =>
  docFiles().flatMap((file) => blocksOf(file, readFileSync(join(ROOT, file), 'utf8')));

export const where = (b: { file: string; line: number }): string => `${b.file}:${b.line}`;

/** One command of a shell block: continuation lines joined, with the line it starts on. */
export interface ShellLine {
  file: string;
  line: number;
  /** The command as a shell would read it (continuations joined, a trailing comment kept). */
  text: string;
}

/**
 * The commands of a shell block. A here-document belongs to the command that opens it, and a
 * line ending in `\` continues on the next.
 */
export const shellLines = (block: Block): ShellLine[] => {
  const out: ShellLine[] = [];
  const lines = block.text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let text = lines[i] ?? '';
    while (text.endsWith('\\') && i + 1 < lines.length) {
      i += 1;
      text = `${text.slice(0, -1).trimEnd()} ${(lines[i] ?? '').trim()}`;
    }
    const heredoc = /<<-?\s*'?(\w+)'?/.exec(text);
    if (heredoc?.[1]) {
      const end = heredoc[1];
      while (i + 1 < lines.length && lines[i] !== end) {
        i += 1;
        text += `\n${lines[i]}`;
      }
    }
    if (text.trim()) out.push({ file: block.file, line: block.line + 1 + start, text });
  }
  return out;
};

/** The command without its trailing `# comment` (outside quotes). */
export const withoutComment = (command: string): string => {
  let quote: string | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(command[i - 1] ?? ''))) {
      return command.slice(0, i).trimEnd();
    }
  }
  return command.trimEnd();
};

/** The trailing comment of a command, '' when none. */
export const commentOf = (command: string): string =>
  command.slice(withoutComment(command).length).replace(/^\s*#\s*/, '');

/**
 * Splits a command into words the way a POSIX shell does for simple quoting (no expansion):
 * enough to read flags and JSON arguments.
 */
export const words = (command: string): string[] => {
  const out: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  for (const c of command) {
    if (quote) {
      if (c === quote) quote = undefined;
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) out.push(word);
  return out;
};
