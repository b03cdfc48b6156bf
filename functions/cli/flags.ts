import { RotatorError } from '../domain/errors.js';

/**
 * The operations validate payloads (the Lambda's language: `only[0].projectId`, `{"force":true}`).
 * The CLI builds those payloads from flags, so its errors say the flags instead.
 */

const FIELDS: [RegExp, string][] = [
  [
    /\bforce needs an explicit list of users \(only\) or all\b/g,
    '--force needs --only <projectId>:<username> or --all',
  ],
  [/\bonly\[(\d+)\]\.projectId\b/g, '--only #$1: the project id'],
  [/\bonly\[(\d+)\]\.username\b/g, '--only #$1: the username'],
  [/\brequestId\b/g, '--request-id'],
  [/"requestedBy"/g, '--requested-by'],
  [/"reason"/g, '--reason'],
  [/"confirm"/g, '--confirm'],
  [/\bdryRun\b/g, '--dry-run'],
  [/(?<![<\w])projectId\b/g, '--project'],
  [/\bin confirm\b/g, 'in --confirm'],
  [/^confirm\b/g, '--confirm'],
  // The CLI reads the config file it is given: there is nothing to redeploy for it.
  [/ \(and redeploy\)/g, ''],
];

/** `--only #0` reads oddly: the CLI counts the flags from one. */
const countFromOne = (text: string): string =>
  text.replace(/--only #(\d+)/g, (_m, n: string) => `--only #${Number(n) + 1}`);

const inFlags = (text: string): string =>
  countFromOne(FIELDS.reduce((t, [pattern, flag]) => t.replace(pattern, flag), text));

/** A payload remedy (`Send {...}`) becomes the command's help; others get their fields renamed. */
export const inFlagLanguage = (
  err: RotatorError,
  command: string,
): { message: string; remedy: string } => ({
  message: inFlags(err.message.replace(/^Invalid (rotate|disable) request: /, 'Invalid options: ')),
  remedy: /^Send \{/.test(err.remedy)
    ? `See \`atlas-x509-rotator ${command} --help\`.`
    : inFlags(err.remedy.replace(/ \(CLI: [^)]*\)/, '')),
});

/** The errors that come from validating what the CLI was told. */
export const isRequestError = (err: unknown): err is RotatorError =>
  err instanceof RotatorError && (err.code === 'INVALID_REQUEST' || err.code === 'REFUSED');

/** Edit distance, for the did-you-mean of a mistyped flag or command (short strings only). */
const distance = (a: string, b: string): number => {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        (row[j] ?? 0) + 1,
        (next[j - 1] ?? 0) + 1,
        (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length] ?? 0;
};

/** Case, dashes and underscores aside: `--dryrun`, `--dry_run` and `--DryRun` are `--dry-run`. */
const bare = (word: string): string => word.replace(/^-+/, '').replace(/[-_]/g, '').toLowerCase();

/** The known word `given` most likely meant: the same bare word, or one or two edits away. */
export const closest = (given: string, known: readonly string[]): string | undefined => {
  const same = known.find((k) => bare(k) === bare(given));
  if (same) return same;
  const scored = known
    .map((k) => ({ k, d: distance(bare(given), bare(k)) }))
    .filter(({ k, d }) => d <= (bare(k).length >= 5 ? 2 : 1))
    .sort((x, y) => x.d - y.d);
  return scored[0]?.k;
};

/**
 * `Unknown option '--dryrun'` (node:util parseArgs), with the flag it most likely meant:
 * `Unknown option '--dryrun': did you mean --dry-run?`.
 */
export const unknownFlagMessage = (message: string, flags: readonly string[]): string => {
  const given = /Unknown option '([^']+)'/.exec(message)?.[1];
  if (!given) return message;
  const name = given.split('=')[0] ?? given;
  const meant = closest(
    name,
    flags.map((f) => `--${f}`),
  );
  return meant
    ? `Unknown option '${name}': did you mean ${meant}?`
    : `Unknown option '${name}' (options: ${flags.map((f) => `--${f}`).join(', ')})`;
};
