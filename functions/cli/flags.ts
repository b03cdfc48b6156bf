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
