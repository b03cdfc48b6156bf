import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfigFile } from '../../functions/domain/config/load.js';
import { storedCertificateSchema } from '../../functions/domain/stored-value.js';
import { Harness, P1 } from '../support/harness.js';
import {
  allBlocks,
  type Block,
  ROOT,
  type ShellLine,
  shellLines,
  where,
  withoutComment,
  words,
} from './blocks.js';
import {
  contextOf,
  expectedExit,
  fillIn,
  fillPayload,
  invokeBundle,
  isCliScript,
  npmScripts,
  packageJsonFor,
  payloadTableRows,
  runScript,
} from './commands.js';
import { ILLUSTRATIVE, NOT_RUN, NPM_NOT_RUN, PENDING, SCRIPTS } from './listed.js';
import { type BlockRule, classify, jsonOf, type LineRule, names } from './rules.js';
import { awsArgv, awsModelProblems, bash, shellSyntaxError } from './shell.js';
import { snippetModule, type TypeCheckFile, typeCheck } from './snippets.js';
import { resourcesOf, type Synth, synthQuickStart, synthRepoApp } from './synth.js';

/**
 * Docs that run: every fenced block a reader copies from README.md, docs/ and examples/ is
 * executed or validated here, extracted from the markdown itself, so a snippet cannot drift from
 * the CLI, the handlers, the config schema or the construct. The rules are in rules.ts; what is
 * not run, and why, is in listed.ts.
 */

const blocks = allBlocks();
const classified = classify(blocks);
const blocksOf = (rule: BlockRule): Block[] => classified.blocks.get(rule) ?? [];
const linesOf = (rule: LineRule): ShellLine[] => classified.lines.get(rule) ?? [];

/**
 * A check's outcome for a block or command: its problem as `file:line: …`, or, for an item
 * PENDING on another branch's work, nothing when it fails and a problem when it passes.
 */
const settle = (
  item: { file: string; line: number; text: string },
  problem: string | undefined,
): string | undefined => {
  const pending = PENDING.find((p) => names(p, item));
  if (pending) {
    if (problem) {
      console.info(`pending (${pending.dependsOn}): ${where(item)}: ${problem}`);
      return undefined;
    }
    return `${where(item)}: passes now: remove its PENDING entry (test/docs/listed.ts)`;
  }
  return problem && `${where(item)}: ${problem}`;
};

const collect = async <T extends { file: string; line: number; text: string }>(
  items: T[],
  check: (item: T) => Promise<string | undefined> | string | undefined,
  options: { pending: boolean } = { pending: true },
): Promise<string[]> => {
  const problems: string[] = [];
  for (const item of items) {
    let problem: string | undefined;
    try {
      problem = await check(item);
    } catch (err) {
      problem = (err as Error).message;
    }
    const settled = options.pending
      ? settle(item, problem)
      : problem && `${where(item)}: ${problem}`;
    if (settled) problems.push(settled);
  }
  return problems;
};

describe('every block a reader copies', () => {
  it('is covered by exactly one rule', () => {
    console.info(
      [
        `${blocks.length} blocks in ${new Set(blocks.map((b) => b.file)).size} files:`,
        ...[...classified.blocks].map(([rule, list]) => `  ${rule}: ${list.length}`),
        'commands of the shell blocks:',
        ...[...classified.lines].map(([rule, list]) => `  ${rule}: ${list.length}`),
      ].join('\n'),
    );
    expect(classified.problems).toEqual([]);
  });

  it('leaves nothing listed that is gone from the docs', () => {
    const allLines = blocks
      .filter((b) => ['sh', 'bash', 'shell'].includes(b.lang))
      .flatMap(shellLines);
    const stale = [
      ...[...ILLUSTRATIVE, ...SCRIPTS].filter(
        (e) => blocks.filter((b) => names(e, b)).length !== 1,
      ),
      ...NOT_RUN.filter((e) => allLines.filter((l) => names(e, l)).length !== 1),
      ...PENDING.filter(
        (e) =>
          !blocks.some((b) => names(e, b) || names(e, stackPromise(b))) &&
          !allLines.some((l) => names(e, l)) &&
          !payloadTableRows().some((r) => names(e, r)),
      ),
    ].map((e) => `${e.file}: "${e.contains}" names no block or command (or more than one)`);
    const npmNamed = linesOf('npm').flatMap((l) => npmScripts(withoutComment(l.text)));
    for (const script of Object.keys(NPM_NOT_RUN)) {
      if (!npmNamed.includes(script)) stale.push(`NPM_NOT_RUN: no doc runs \`${script}\` any more`);
    }
    expect(stale).toEqual([]);
  });

  it('parses as shell, every shell block', async () => {
    // Usage lines (`[--dry-run]`, `a | b`) are no commands: the others must parse.
    const shell = [...blocksOf('shell-commands'), ...blocksOf('shell-script')].map((b) => ({
      ...b,
      text: shellLines(b)
        .filter((l) => !linesOf('cli-synopsis').some((s) => s.file === l.file && s.line === l.line))
        .map((l) => l.text)
        .join('\n'),
    }));
    const problems = await collect(shell, (b) => shellSyntaxError(b.text), { pending: false });
    expect(problems).toEqual([]);
  });
});

describe('JSON blocks', () => {
  it('configs (whole, part of one, or one project) pass the CLI’s own validation', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'docs-config-'));
    const minimal = { projects: [{ projectId: P1, users: ['app1'] }] };
    const problems = await collect(blocksOf('json-config'), async (b) => {
      const value = jsonOf(b) as Record<string, unknown>;
      const whole =
        'projects' in value
          ? value
          : 'projectId' in value
            ? { projects: [value] }
            : { ...minimal, ...value };
      const schema = value.$schema;
      if (typeof schema === 'string') {
        const shipped = schema.replace('./node_modules/atlas-x509-rotator/', './');
        if (!existsSync(join(ROOT, shipped)))
          return `"$schema" names ${schema}, which does not exist`;
        const files = (
          JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] }
        ).files;
        if (schema.includes('node_modules/') && !files.some((f) => shipped.startsWith(`./${f}/`))) {
          return `"$schema" names ${schema}, which the package does not ship (package.json "files")`;
        }
      }
      const file = join(dir, `${b.line}.json`);
      await writeFile(file, JSON.stringify(whole));
      await loadConfigFile(file);
      return undefined;
    });
    await rm(dir, { recursive: true, force: true });
    expect(problems).toEqual([]);
  });

  it('the secret value is what the rotator stores and reads back', async () => {
    const problems = await collect(blocksOf('json-secret-value'), (b) => {
      const value = jsonOf(b) as Record<string, unknown>;
      const parsed = storedCertificateSchema.safeParse(value);
      if (!parsed.success) return parsed.error.message;
      const extra = Object.keys(value).filter((k) => !(k in storedCertificateSchema.shape));
      const missing = Object.keys(storedCertificateSchema.shape).filter((k) => !(k in value));
      return extra.length || missing.length ? `extra: ${extra}; missing: ${missing}` : undefined;
    });
    expect(problems).toEqual([]);
  });

  it('a log line quotes a message the functions really log', async () => {
    const sources = (await readdir(join(ROOT, 'functions'), { recursive: true }))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(join(ROOT, 'functions', f), 'utf8'))
      .join('\n');
    const problems = await collect(blocksOf('json-log-line'), (b) => {
      const { message } = jsonOf(b) as { message: string };
      return sources.includes(`'${message}'`) ? undefined : `no function logs "${message}"`;
    });
    expect(problems).toEqual([]);
  });
});

/** The TypeScript blocks, the run report and the event pattern: one tsc for all. */
describe('TypeScript, reports and event patterns', () => {
  it('type-check against the package’s public types', async () => {
    const files: TypeCheckFile[] = [
      ...[...blocksOf('ts-typecheck'), ...blocksOf('ts-quick-start')].map((b) => ({
        from: where(b),
        source: snippetModule(b),
      })),
      ...blocksOf('json-report').map((b) => ({
        from: where(b),
        source: `import type { RunReport } from '${ROOT}functions/domain/report.js';\nexport const report: RunReport = ${b.text};\n`,
      })),
      ...blocksOf('json-event-pattern').map((b) => ({
        from: where(b),
        source: `import type { DetailType, EVENT_SOURCE } from '${ROOT}functions/domain/names.js';\nexport const pattern: { source: (typeof EVENT_SOURCE)[]; 'detail-type': DetailType[]; detail?: Record<string, unknown> } = ${b.text};\n`,
      })),
    ];
    const errors = await typeCheck(files);
    const problems = files.flatMap((f) => {
      const [file, line] = f.from.split(':');
      const mine = errors.filter((e) => e.startsWith(`${f.from}:`));
      return [
        settle(
          {
            file: file ?? '',
            line: Number(line),
            text: blocks.find((b) => where(b) === f.from)?.text ?? '',
          },
          mine.join('\n') || undefined,
        ),
      ].filter((p): p is string => !!p);
    });
    const unplaced = errors.filter((e) => !files.some((f) => e.startsWith(`${f.from}:`)));
    expect([...problems, ...unplaced]).toEqual([]);
  }, 120_000);
});

/** The CLI lines, against one Atlas simulator and the suite's moto_server. */
describe('CLI commands', () => {
  let h: Harness;
  let bin: string;
  beforeAll(async () => {
    h = await Harness.start();
    h.sim.addUser(P1, 'app1');
    await writeFile(
      join(h.dir, 'rotation.config.json'),
      JSON.stringify(h.config({ projects: [{ projectId: P1, users: ['app1'] }] })),
    );
    // `atlas-x509-rotator` on the PATH, as `npm install` puts it: the bundle the package ships.
    bin = join(h.dir, 'bin');
    await mkdir(bin);
    const cli = process.env.ROTATOR_TEST_CLI ?? join(ROOT, 'dist/cli/atlas-x509-rotator.mjs');
    await writeFile(
      join(bin, 'atlas-x509-rotator'),
      `#!/bin/sh\nexec "${process.execPath}" "${cli}" "$@"\n`,
    );
    await chmod(join(bin, 'atlas-x509-rotator'), 0o755);
  });
  afterAll(async () => h?.close());

  /** The installed command for each way the docs start it (npx, a checkout's bundle, npm run). */
  const asInstalled = (command: string): string =>
    command
      .replace(/^npx atlas-x509-rotator\b/, 'atlas-x509-rotator')
      .replace(/^node dist\/cli\/atlas-x509-rotator\.mjs\b/, 'atlas-x509-rotator')
      .replace(/^npm run (?:--silent )?(rotate|disable-customer-x509) --/, 'atlas-x509-rotator $1');

  const inWorld = (command: string) =>
    bash(fillIn(asInstalled(command)), {
      cwd: h.dir,
      env: { ...h.atlasEnv, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' },
    });

  it('run against the simulator and exit as the docs say', async () => {
    // With the npm scripts that are one CLI command (the example app's `npm run dry-run`).
    const scripted = linesOf('npm').flatMap((l) => {
      const [script] = npmScripts(withoutComment(l.text));
      const body = packageJsonFor(l.file).scripts[script ?? ''];
      return isCliScript(body) ? [{ ...l, command: body ?? '' }] : [];
    });
    const lines = [
      ...linesOf('cli-run').map((l) => ({ ...l, command: withoutComment(l.text) })),
      ...scripted,
    ];
    const problems = await collect(lines, async (l) => {
      const result = await inWorld(l.command);
      const expected = expectedExit(l.text);
      return result.code === expected
        ? undefined
        : `exited ${result.code}, the doc says ${expected}:\n${result.stdout}\n${result.stderr}`;
    });
    expect(problems).toEqual([]);
  }, 180_000);

  it('usage lines name only flags the command has', async () => {
    const help = new Map<string, string>();
    const problems = await collect(linesOf('cli-synopsis'), async (l) => {
      const argv = words(asInstalled(withoutComment(l.text)));
      const command = argv[1] ?? '';
      if (!help.has(command))
        help.set(command, (await inWorld(`atlas-x509-rotator ${command} --help`)).stdout);
      const text = help.get(command) ?? '';
      if (!text.includes(`atlas-x509-rotator ${command}`)) return `no command ${command}`;
      const flags = [...l.text.matchAll(/(?<![\w-])--[a-z][\w-]*/g)].map((m) => m[0]);
      const unknown = flags.filter((f) => !new RegExp(`${f}\\b`).test(text));
      return unknown.length ? `${command} --help names no ${unknown.join(', ')}` : undefined;
    });
    expect(problems).toEqual([]);
  }, 60_000);

  it('AWS commands match the AWS CLI’s own model, and their payloads pass the shipped handlers', async () => {
    const commands: { id: string; argv: string[]; line: ShellLine }[] = [];
    for (const l of [...linesOf('aws-lambda-invoke'), ...linesOf('aws-parse-only')]) {
      commands.push({ id: where(l), argv: await awsArgv(fillIn(withoutComment(l.text))), line: l });
    }
    const model = await awsModelProblems(commands.map(({ id, argv }) => ({ id, argv })));
    await writeFile(
      join(h.dir, 'handler.config.json'),
      JSON.stringify(h.config({ projects: [{ projectId: P1, users: ['app1'] }] })),
    );
    vi.stubEnv('ROTATOR_CONFIG_PATH', join(h.dir, 'handler.config.json'));
    for (const [k, v] of Object.entries(h.atlasEnv)) vi.stubEnv(k, v);
    // The handler's metrics (EMF on stdout) stay out of the suite's output.
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const problems = await collect(
        commands.map((c) => ({ ...c, ...c.line })),
        async (c) => {
          const found = model.get(c.id) ?? ['not checked'];
          if (found.length) return found.join('; ');
          if (c.argv[1] !== 'invoke') return undefined;
          const at = c.argv.indexOf('--payload');
          const fn = c.argv[c.argv.indexOf('--function-name') + 1] ?? '';
          const payload: unknown = JSON.parse(fillPayload(c.argv[at + 1] ?? ''));
          const name = /disable/i.test(fn) ? 'disable-customer-x509' : 'rotate';
          return invokeBundle(name, payload, fn);
        },
      );
      // The README's table of rotate payloads (inline code, copied as often as the blocks).
      problems.push(
        ...(await collect(payloadTableRows(), (row) =>
          invokeBundle('rotate', JSON.parse(fillPayload(row.payload)), 'rotate'),
        )),
      );
      expect(problems).toEqual([]);
    } finally {
      write.mockRestore();
      vi.unstubAllEnvs();
    }
  }, 120_000);
});

describe('npm commands', () => {
  it('name scripts the package.json of that app has', async () => {
    const builtIn = ['ci', 'install', 'test'];
    const problems = await collect(linesOf('npm'), (l) => {
      const pkg = packageJsonFor(l.file);
      const missing: string[] = [];
      for (const part of withoutComment(l.text).split('&&')) {
        const w = words(part.trim());
        const script = npmScripts(part)[0] ?? '';
        if (w[1] === 'install' && w[2] && w[2] !== 'atlas-x509-rotator')
          missing.push(`npm install ${w[2]}`);
        if (!(builtIn.includes(script) && w[1] !== 'run') && !(script in pkg.scripts))
          missing.push(script);
        if (!(script in NPM_NOT_RUN) && !isCliScript(pkg.scripts[script])) {
          missing.push(`${script}: neither run here nor in NPM_NOT_RUN`);
        }
      }
      return missing.length
        ? `not in ${pkg.name}'s package.json: ${missing.join(', ')}`
        : undefined;
    });
    expect(problems).toEqual([]);
  });
});

describe('vitest commands', () => {
  it('name projects and files that exist', async () => {
    const config = readFileSync(join(ROOT, 'vitest.config.ts'), 'utf8');
    const problems = await collect(linesOf('vitest'), (l) => {
      const w = words(withoutComment(l.text)).filter((x) => !/^\w+=/.test(x));
      const missing = w.flatMap((x, i) => {
        if (w[i - 1] === '--project')
          return config.includes(`name: '${x}'`) ? [] : [`project ${x}`];
        return /^test\/.+\.ts$/.test(x) && !existsSync(join(ROOT, x)) ? [x] : [];
      });
      return missing.length ? `no ${missing.join(', ')}` : undefined;
    });
    expect(problems).toEqual([]);
  });
});

/** The README's example config ("Configuration"): the reader's rotation.config.json. */
const readmeConfig = (): Block => {
  const found = blocksOf('json-config').find(
    (b) => b.file === 'README.md' && b.text.includes('"projects"'),
  );
  if (!found) throw new Error('README.md has no example config');
  return found;
};

/** Every -c flag the docs give this repository's app, merged (a conflict is a problem). */
const repoContext = (): { context: Map<string, string>; conflicts: string[] } => {
  const context = new Map<string, string>();
  const conflicts: string[] = [];
  for (const l of linesOf('cdk-repo-app')) {
    for (const [k, v] of contextOf(l.text)) {
      // Files are the reader's own: the suite writes one of each.
      if (context.has(k) && context.get(k) !== v && !['config', 'consumers'].includes(k)) {
        conflicts.push(`${where(l)}: -c ${k}=${v}, elsewhere ${context.get(k)}`);
      }
      context.set(k, v);
    }
  }
  return { context, conflicts };
};

// Both synths start at once and run beside the other checks (each takes tens of seconds).
let repoSynth: Promise<Synth>;
let quickSynth: Promise<Synth>;
beforeAll(() => {
  if (
    !blocksOf('json-config').some((b) => b.file === 'README.md' && b.text.includes('"projects"'))
  ) {
    const missing = Promise.resolve({ problem: 'README.md has no example config' });
    repoSynth = missing;
    quickSynth = missing;
    return;
  }
  const { context } = repoContext();
  const [consumers] = blocksOf('json-consumers');
  repoSynth = synthRepoApp(context, {
    config: readmeConfig().text,
    ...(context.has('consumers') ? { consumers: consumers?.text ?? '{}' } : {}),
  });
  const [quick] = blocksOf('ts-quick-start');
  quickSynth = quick
    ? synthQuickStart(quick, readmeConfig().text)
    : Promise.resolve({ problem: 'README.md has no Quick start' });
});

/**
 * The -c flags an app reads: a `tryGetContext('x')` call, or one of the apps' own helpers
 * around it (`context('x')`, `flag('x')`). Each helper must itself read `tryGetContext(name)`,
 * so a renamed helper reads as no flags at all (and the checks below fail) rather than as fewer.
 */
const contextReads = (file: string): string[] => {
  const source = readFileSync(join(ROOT, file), 'utf8');
  const helpers = [
    ...source.matchAll(
      /const (\w+) = \(name(?::[^)]*)?\)[^{]*\{[^}]*?\b(tryGetContext|context)\(name\)/g,
    ),
  ]
    .map((m) => m[1] ?? '')
    .filter(Boolean);
  const callers = ['tryGetContext', ...helpers].join('|');
  return [
    ...new Set(
      [...source.matchAll(new RegExp(`\\b(?:${callers})\\('(\\w+)'\\)`, 'g'))].map(
        (m) => m[1] ?? '',
      ),
    ),
  ].sort();
};

describe('cdk commands', () => {
  it('both apps read the same -c flags (one vocabulary, docs/deploy.md)', () => {
    const example = contextReads('examples/cdk-app/bin/app.js');
    expect(example).toContain('alarmEmail');
    expect(example).toEqual(contextReads('infra/app.ts'));
  });

  it('-c flags of the adopter app are ones the example app reads', () => {
    const read = contextReads('examples/cdk-app/bin/app.js');
    const problems = linesOf('cdk-adopter-app').flatMap((l) => {
      const unread = contextOf(l.text)
        .map(([k]) => k)
        .filter((k) => !read.includes(k));
      const p = settle(
        l,
        unread.length ? `examples/cdk-app reads no -c ${unread.join(', ')}` : undefined,
      );
      return p ? [p] : [];
    });
    expect(problems).toEqual([]);
  });

  it('deploy.md’s table of -c flags is exactly what both apps read', () => {
    const read = contextReads('infra/app.ts');
    const deploy = readFileSync(join(ROOT, 'docs/deploy.md'), 'utf8');
    const section = deploy.slice(deploy.indexOf('## Context flags and construct props'));
    const table = section.slice(0, section.indexOf('\n## ', 1));
    const documented = [...table.matchAll(/^\| `(\w+)=|, `(\w+)=/gm)].map(
      (m) => m[1] ?? m[2] ?? '',
    );
    expect([...new Set(documented)].sort()).toEqual(read);
    expect(read).toEqual(contextReads('examples/cdk-app/bin/app.js'));
  });

  it('this repository’s app synthesizes with every -c flag the docs give it, at once', async () => {
    const { context, conflicts } = repoContext();
    expect(conflicts).toEqual([]);
    const { problem, template } = await repoSynth;
    expect(problem).toBeUndefined();
    if (context.get('scheduleEnabled') === 'false' && template) {
      const states = resourcesOf(template, 'AWS::Scheduler::Schedule').map(
        (r) => r.Properties.State,
      );
      expect(states.length).toBeGreaterThan(0);
      expect(states.every((s) => s === 'DISABLED')).toBe(true);
    }
  }, 240_000);
});

/** The outputs the docs name (D2: the construct's, in the adopter's stack and this repository's). */
const DOCUMENTED_OUTPUTS = [
  'CredentialsSecretArn',
  'RotateFunctionName',
  'DisableFunctionName',
  'LeaseTableName',
  'CertificateSecretsKeyArn',
  'AlarmTopicArn',
  'DashboardName',
  'FailureQueueUrl',
];

/** What the Quick start's synthesized stack must hold, as an item of its own (PENDING names it). */
const stackPromise = (quick: Block): Block => ({
  ...quick,
  text: `${quick.text}\n(the synthesized stack's outputs and names)`,
});

describe('the Quick start', () => {
  it('synthesizes in an app of its own, from the README’s config', async () => {
    const [quick] = blocksOf('ts-quick-start');
    if (!quick) throw new Error('README.md has no Quick start');
    const { problem, template } = await quickSynth;
    expect(problem).toBeUndefined();
    // What the docs promise the adopter's stack: the outputs, and the config's own names for
    // the lease table and the key, so the CLI with the same file shares them (D1).
    const outputs = Object.keys(template?.Outputs ?? {});
    const config = JSON.parse(readmeConfig().text) as {
      locks: { tableName: string };
      defaults: { kmsKeyId: string };
    };
    const tables = resourcesOf(template ?? { Resources: {} }, 'AWS::DynamoDB::Table').map(
      (r) => r.Properties.TableName,
    );
    const aliases = resourcesOf(template ?? { Resources: {} }, 'AWS::KMS::Alias').map(
      (r) => r.Properties.AliasName,
    );
    const broken = [
      ...DOCUMENTED_OUTPUTS.filter((o) => !outputs.includes(o)).map((o) => `no output ${o}`),
      ...(tables.includes(config.locks.tableName)
        ? []
        : [`no lease table named ${config.locks.tableName} (${tables})`]),
      ...(aliases.includes(config.defaults.kmsKeyId)
        ? []
        : [`no key alias ${config.defaults.kmsKeyId} (${aliases})`]),
    ];
    expect(settle(stackPromise(quick), broken.join('; ') || undefined)).toBeUndefined();
  }, 240_000);
});

/** The markdown the package ships: README.md always, docs/ when package.json "files" has it. */
const shippedDocs = (): string[] => {
  const files = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] }
  ).files;
  return [...new Set(blocks.map((b) => b.file))].filter(
    (f) =>
      f === 'README.md' || files.some((shipped) => f.startsWith(`${shipped}/`) || f === shipped),
  );
};

/** A command only a checkout of this repository can run (its scripts, sources, own app). */
const needsCheckout = (l: ShellLine): boolean => {
  const command = withoutComment(l.text);
  if (linesOf('cdk-repo-app').some((x) => x.file === l.file && x.line === l.line)) return true;
  if (/^(?:\w+=\S+ )*npx vitest\b|^node dist\/|^npx tsx\b/.test(command)) return true;
  if (!/^npm /.test(command) || l.file.startsWith('examples/')) return false;
  return !/^npm install atlas-x509-rotator\b/.test(command);
};

describe('what the package ships', () => {
  it('says "in a checkout of this repository" before each command that needs one', () => {
    const shipped = shippedDocs();
    const problems: string[] = [];
    for (const b of blocks.filter((x) => shipped.includes(x.file))) {
      const isShell =
        blocksOf('shell-commands').includes(b) || blocksOf('shell-script').includes(b);
      if (!isShell) continue;
      const needing = blocksOf('shell-script').includes(b)
        ? shellLines(b).slice(0, 1)
        : shellLines(b).filter(needsCheckout);
      if (!needing.length) continue;
      // The section the block is in, from its heading to the fence.
      const lines = readFileSync(join(ROOT, b.file), 'utf8')
        .split('\n')
        .slice(0, b.line - 1);
      const heading = lines.findLastIndex((x) => /^#+ /.test(x));
      const section = lines.slice(Math.max(heading, 0)).join(' ');
      if (!/checkout/i.test(section)) {
        problems.push(
          `${where(needing[0] ?? b)}: needs a checkout, and its section does not say so: ${needing[0]?.text}`,
        );
      }
    }
    expect(problems).toEqual([]);
  });

  it('ships every markdown file the shipped docs link to', () => {
    const files = (
      JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] }
    ).files;
    const isShipped = (f: string) =>
      f === 'README.md' || files.some((x) => f === x || f.startsWith(`${x}/`));
    const problems: string[] = [];
    for (const file of shippedDocs()) {
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/\]\(([\w./-]+\.md)(?:#[\w-]*)?\)/g)) {
        const target = relative(ROOT, join(ROOT, file, '..', m[1] ?? ''));
        if (!existsSync(join(ROOT, target)) || !isShipped(target)) {
          problems.push(`${file}: links to ${m[1]}, which the package does not ship`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('shell scripts', () => {
  it('run whole, each command exiting as the doc says', async () => {
    // Its commands settle their PENDING entries themselves (runScript).
    const problems = await collect(blocksOf('shell-script'), runScript, { pending: false });
    expect(problems).toEqual([]);
  }, 240_000);
});
