import { readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { freePort } from '../../tools/aws/moto.js';
import { importHandlerBundle } from '../support/bundles.js';
import { P1 } from '../support/harness.js';
import { type Block, commentOf, ROOT, shellLines, where, withoutComment, words } from './blocks.js';
import { PENDING } from './listed.js';
import { names } from './rules.js';
import { bash, fillPlaceholders } from './shell.js';

/** How the suite runs what a reader copies: stand-ins filled in, handlers, npm and cdk lines. */

const PLACEHOLDERS: [RegExp, string][] = [
  [/<projectId>|<id>|<project id>/g, P1],
  [/<username>|<user>/g, 'app1'],
  [/<who>/g, 'ops@example.com'],
  [/<why>/g, 'CHG-1234'],
];
export const fillIn = (text: string): string =>
  fillPlaceholders(PLACEHOLDERS.reduce((t, [pattern, value]) => t.replace(pattern, value), text));

/** The exit status a command's comment promises (`# exits 1: …`), 0 otherwise. */
export const expectedExit = (command: string): number =>
  Number(/\bexits? (\d)\b/.exec(commentOf(command))?.[1] ?? 0);

/** Runs a payload through the shipped handler bundle, in a new container; its problem if any. */
export const invokeBundle = async (
  name: 'rotate' | 'disable-customer-x509',
  payload: unknown,
  functionName: string,
): Promise<string | undefined> => {
  const mod = await importHandlerBundle<{
    handler: (e: unknown, c: Context) => Promise<{ error?: unknown }>;
  }>(name);
  const report = await mod.handler(payload, lambdaContext(functionName));
  return report.error ? `the run failed: ${JSON.stringify(report.error)}` : undefined;
};

/** The rows of README's "Rotate Lambda" payload table whose first cell is a whole payload. */
export const payloadTableRows = (): {
  file: string;
  line: number;
  text: string;
  payload: string;
}[] => {
  const lines = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith('## Rotate Lambda'));
  const rows: { file: string; line: number; text: string; payload: string }[] = [];
  for (let i = start + 1; i < lines.length && !lines[i]?.startsWith('## '); i++) {
    const payload = /^\| `(\{.*?\})`/.exec(lines[i] ?? '')?.[1];
    if (payload) rows.push({ file: 'README.md', line: i + 1, text: lines[i] ?? '', payload });
  }
  if (rows.length === 0) throw new Error('README.md, "Rotate Lambda": no payload table');
  return rows;
};

/** `…` and other stand-ins inside a payload's JSON strings, as a reader fills them in. */
export const fillPayload = (payload: string): string =>
  fillIn(payload)
    .replace(/("projectId"\s*:\s*)"…"/g, `$1"${P1}"`)
    .replace(/("username"\s*:\s*)"…"/g, '$1"app1"');

export const lambdaContext = (functionName: string): Context =>
  ({
    awsRequestId: `docs-${Date.now()}`,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 's',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 300_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }) as Context;

/** The scripts an npm command line names (`npm ci && npm run build` → ci, build). */
export const npmScripts = (command: string): string[] =>
  command.split('&&').map((part) => {
    const w = words(part.trim()).filter((x) => x !== '--silent');
    return w[1] === 'run' ? (w[2] ?? '') : (w[1] ?? '');
  });

/** The package.json of the app a doc speaks of: the example app's for its README. */
export const packageJsonFor = (file: string): { name: string; scripts: Record<string, string> } =>
  JSON.parse(
    readFileSync(
      join(ROOT, file.startsWith('examples/') ? join(file, '..', 'package.json') : 'package.json'),
      'utf8',
    ),
  );

/** A script that is one CLI command (the example app's `dry-run`): run with the CLI lines. */
export const isCliScript = (body: string | undefined): boolean =>
  !!body && /^atlas-x509-rotator /.test(body);

/** `-c key=value` pairs of a cdk command, as the shell passes them. */
export const contextOf = (command: string): [string, string][] => {
  const w = words(withoutComment(command));
  const pairs: [string, string][] = [];
  w.forEach((x, i) => {
    const next = w[i + 1];
    if (x === '-c' && next?.includes('=')) {
      const at = next.indexOf('=');
      pairs.push([next.slice(0, at).replace(/^\[/, ''), next.slice(at + 1).replace(/\]$/, '')]);
    }
  });
  return pairs;
};

/**
 * A walk-through run as written, in a directory standing for a checkout (its sources linked),
 * with its fixed ports and /tmp files replaced by free ones. After each command, its exit status
 * is compared with the one its comment promises (0 unless `# exits N`).
 */
export const runScript = async (b: Block): Promise<string | undefined> => {
  const dir = await mkdtemp(join(tmpdir(), 'docs-script-'));
  for (const entry of [
    'package.json',
    'node_modules',
    'dist',
    'schema',
    'tools',
    'functions',
    'tsconfig.json',
  ]) {
    await symlink(join(ROOT, entry), join(dir, entry));
  }
  const ports = new Map<string, string>();
  let text = b.text.replaceAll('/tmp/', `${dir}/`);
  for (const port of new Set(
    [...text.matchAll(/(?:-p |--port |127\.0\.0\.1:)(\d{4,5})\b/g)].map((m) => m[1] ?? ''),
  )) {
    ports.set(port, String(await freePort()));
  }
  for (const [from, to] of ports) text = text.replaceAll(from, to);
  // A long run's users are not this check's point: a few stand in for 300.
  text = text.replace(/--users \d+/g, '--users 3');
  const script = shellLines({ ...b, text })
    .map((l) => {
      const command = withoutComment(l.text);
      if (!command || command.endsWith('&')) return l.text;
      const expected = expectedExit(l.text);
      // A command pending on another branch: its exit is noted, and passing is the news.
      if (PENDING.some((p) => names(p, { file: b.file, text: l.text }))) {
        return `${l.text}\n__rc=$?; [ "$__rc" = ${expected} ] && echo "__PENDING_PASSES__ ${where(l)}" >&2; [ "$__rc" = ${expected} ] || echo "pending: ${where(l)} exited $__rc" >&2`;
      }
      return `${l.text}\n__rc=$?; [ "$__rc" = ${expected} ] || { echo "${where(l)}: exited $__rc, the doc says ${expected}" >&2; exit 1; }`;
    })
    .join('\n');
  // The walk-through sets its own AWS variables: none of the suite's leak into it.
  const env: Record<string, string | undefined> = {};
  for (const k of Object.keys(process.env))
    if (/^(AWS_|MONGODB_ATLAS_|ROTATOR_)/.test(k)) env[k] = undefined;
  const result = await bash(script, { cwd: dir, env, timeoutMs: 200_000 });
  await rm(dir, { recursive: true, force: true });
  const passing = [...result.stderr.matchAll(/__PENDING_PASSES__ (\S+)/g)].map((m) => m[1]);
  if (passing.length)
    return `passes now: remove its PENDING entry (test/docs/listed.ts): ${passing}`;
  for (const m of result.stderr.matchAll(/^pending: .*$/gm)) console.info(m[0]);
  return result.code === 0
    ? undefined
    : `${result.stderr.slice(-3000)}\n${result.stdout.slice(-2000)}`;
};
