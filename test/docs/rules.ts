import { type Block, type ShellLine, shellLines, where, withoutComment } from './blocks.js';
import { ILLUSTRATIVE, type Listed, NOT_RUN, SCRIPTS } from './listed.js';

/**
 * Which rule checks each block a reader copies, and each command of a shell block. Every block
 * and every command matches exactly one rule; one that matches none (or two) is a failure that
 * names its file:line.
 */

export type BlockRule =
  | 'shell-commands'
  | 'shell-script'
  | 'json-config'
  | 'json-consumers'
  | 'json-secret-value'
  | 'json-report'
  | 'json-event-pattern'
  | 'json-log-line'
  | 'ts-typecheck'
  | 'ts-quick-start'
  | 'illustrative';

export type LineRule =
  | 'comment'
  | 'cli-run'
  | 'cli-synopsis'
  | 'npm'
  | 'cdk-repo-app'
  | 'cdk-adopter-app'
  | 'aws-lambda-invoke'
  | 'aws-parse-only'
  | 'cdk-parse-only'
  | 'vitest'
  | 'shell-plumbing';

/** Whether an allow-list entry names this block (its file, and a text only it contains). */
export const names = (entry: Listed, b: { file: string; text: string }): boolean =>
  entry.file === b.file && b.text.includes(entry.contains);

const isShell = (b: Block) => ['sh', 'bash', 'shell'].includes(b.lang);
const isTs = (b: Block) => ['ts', 'typescript', 'js', 'javascript'].includes(b.lang);
const QUICK_START = (b: Block) =>
  b.file === 'README.md' && b.text.includes('new AtlasX509Rotation(stack');

/** The block's JSON, completed where it is a fragment (`"defaults": {…}`); undefined if none. */
export const jsonOf = (b: Block): unknown => {
  if (b.lang !== 'json') return undefined;
  const text = b.text.trim();
  try {
    return JSON.parse(text.startsWith('"') ? `{${text}}` : text);
  } catch {
    return undefined;
  }
};

const objectOf = (b: Block): Record<string, unknown> | undefined => {
  const value = jsonOf(b);
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
};

const CONFIG_KEYS = ['$schema', 'atlas', 'defaults', 'locks', 'rotation', 'projects'];
const SECRET_KEYS = ['username', 'projectId', 'certificate', 'privateKey', 'pem', 'serialNumber'];

const BLOCK_RULES: [BlockRule, (b: Block) => boolean][] = [
  ['shell-commands', (b) => isShell(b) && !SCRIPTS.some((s) => names(s, b))],
  ['shell-script', (b) => isShell(b) && SCRIPTS.some((s) => names(s, b))],
  [
    'json-config',
    (b) => {
      const o = objectOf(b);
      if (!o) return false;
      const keys = Object.keys(o);
      // A whole config or part of its root, or one project entry.
      return (
        // A misspelt key (`lock`) still reads as a config, so the schema names it.
        keys.some((k) => CONFIG_KEYS.includes(k)) ||
        (typeof o.projectId === 'string' && !('username' in o))
      );
    },
  ],
  [
    'json-consumers',
    (b) => {
      const o = objectOf(b);
      return (
        !!o && Object.keys(o).length > 0 && Object.keys(o).every((k) => /^[a-f0-9]{24}$/.test(k))
      );
    },
  ],
  ['json-secret-value', (b) => SECRET_KEYS.every((k) => k in (objectOf(b) ?? {}))],
  ['json-report', (b) => ['runId', 'summary', 'users'].every((k) => k in (objectOf(b) ?? {}))],
  ['json-event-pattern', (b) => ['source', 'detail-type'].every((k) => k in (objectOf(b) ?? {}))],
  ['json-log-line', (b) => ['level', 'message'].every((k) => k in (objectOf(b) ?? {}))],
  ['ts-typecheck', (b) => isTs(b) && !QUICK_START(b)],
  ['ts-quick-start', (b) => isTs(b) && QUICK_START(b)],
  ['illustrative', (b) => ILLUSTRATIVE.some((e) => names(e, b))],
];

/** The rules a block matches: exactly one is right. */
export const blockRules = (b: Block): BlockRule[] =>
  BLOCK_RULES.filter(([, matches]) => matches(b)).map(([rule]) => rule);

/** How the CLI is started in the docs: installed, through npx, or from a checkout. */
export const CLI_PREFIX =
  /^(?:npx |\.\/node_modules\/\.bin\/)?atlas-x509-rotator\b|^node dist\/cli\/atlas-x509-rotator\.mjs\b|^npm run (?:--silent )?(?:rotate|disable-customer-x509) --/;

/** A usage line: optional parts in brackets, alternatives, repetition. */
const SYNOPSIS = /\[|\s\|\s|\.\.\.|…/;

const PLUMBING = /^(?:cat|rm|export|cd|mkdir)\b/;

const isNotRun = (l: ShellLine): boolean => NOT_RUN.some((e) => names(e, l));

const LINE_RULES: [LineRule, (command: string, l: ShellLine) => boolean][] = [
  ['comment', (c) => c === ''],
  ['cli-run', (c) => CLI_PREFIX.test(c) && !SYNOPSIS.test(c)],
  ['cli-synopsis', (c) => CLI_PREFIX.test(c) && SYNOPSIS.test(c)],
  [
    'npm',
    (c) =>
      c
        .split('&&')
        .every((part) =>
          /^npm (?!run (?:--silent )?(?:rotate|disable-customer-x509) --)/.test(part.trim()),
        ),
  ],
  [
    'cdk-repo-app',
    (c, l) => /^npx cdk (synth|deploy)\b/.test(c) && /-c config=/.test(c) && !isNotRun(l),
  ],
  [
    'cdk-adopter-app',
    (c, l) => /^npx cdk (synth|deploy)\b/.test(c) && !/-c config=/.test(c) && !isNotRun(l),
  ],
  ['cdk-parse-only', (c, l) => /^npx cdk /.test(c) && isNotRun(l)],
  ['aws-lambda-invoke', (c) => /^(?:\w+=\S+ )*aws lambda invoke\b/.test(c)],
  ['aws-parse-only', (c, l) => /^(?:\w+=\S+ )*aws (?!lambda invoke)/.test(c) && isNotRun(l)],
  ['vitest', (c) => /^(?:\w+=\S+ )*npx vitest run\b/.test(c)],
  ['shell-plumbing', (c) => PLUMBING.test(c)],
];

/** The rules a command matches: exactly one is right. */
export const lineRules = (l: ShellLine): LineRule[] => {
  const command = withoutComment(l.text).trim();
  return LINE_RULES.filter(([, matches]) => matches(command, l)).map(([rule]) => rule);
};

export interface Classified {
  blocks: Map<BlockRule, Block[]>;
  lines: Map<LineRule, ShellLine[]>;
  /** Blocks and commands no rule (or more than one) covers, as `file:line: …`. */
  problems: string[];
}

export const classify = (blocks: Block[]): Classified => {
  const out: Classified = { blocks: new Map(), lines: new Map(), problems: [] };
  for (const b of blocks) {
    const rules = blockRules(b);
    if (rules.length !== 1) {
      out.problems.push(
        `${where(b)}: a \`${b.lang || 'plain'}\` block ${rules.length ? `matches ${rules.join(', ')}` : 'no rule covers'}: ${b.text.split('\n')[0]}`,
      );
      continue;
    }
    const [rule] = rules as [BlockRule];
    out.blocks.set(rule, [...(out.blocks.get(rule) ?? []), b]);
    if (rule !== 'shell-commands') continue;
    for (const l of shellLines(b)) {
      const matched = lineRules(l);
      if (matched.length !== 1) {
        out.problems.push(
          `${where(l)}: ${matched.length ? `matches ${matched.join(', ')}` : 'no rule covers this command'}: ${l.text}`,
        );
        continue;
      }
      const [lineRule] = matched as [LineRule];
      out.lines.set(lineRule, [...(out.lines.get(lineRule) ?? []), l]);
    }
  }
  return out;
};
