import { randomUUID } from 'node:crypto';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import packageJson from '../package.json' with { type: 'json' };
import { cliLogger } from './adapters/log.js';
import { closest, inFlagLanguage, isRequestError, unknownFlagMessage } from './cli/flags.js';
import { colorsFor, Progress, tableStyle } from './cli/terminal.js';
import { loadConfigFile } from './domain/config/load.js';
import {
  confirmAdvice,
  type DisableReport,
  formatDisableReport,
  parseDisableRequest,
} from './domain/customer-x509.js';
import { RotatorError } from './domain/errors.js';
import type { Log } from './domain/log.js';
import { exitCodeFor } from './domain/report.js';
import { formatReport } from './domain/report-table.js';
import { parseRotateEvent } from './domain/request.js';
import type { UserRef } from './domain/rotation/index.js';
import { CREATE_RESERVE_MS, REPORT_RESERVE_MS } from './domain/timing.js';

/**
 * Local CLI: the same operations as the Lambda handlers, for operators and the demo.
 * Exit 0 when nothing failed, 1 when something failed, 2 for bad config, arguments or a
 * refused request.
 */

const ROTATE_USAGE = `Usage: atlas-x509-rotator rotate --config <file> [--dry-run]
         [--force (--only <projectId>:<username>... | --all) [--request-id <id>]]
         [--only ...] [--json] [--quiet] [--time-budget <seconds>] [--wait-for-lock <seconds>]

  --config <file>        rotation config (JSON)
  --dry-run              list and evaluate, report the plan; mint nothing, write nothing
  --force                mint even when not due; needs --only or --all
  --only <p>:<u>         restrict the run to these users (repeatable)
  --all                  with --force: every configured user
  --request-id <id>      with --force: repeat a forced request (the id it printed): users it
                         served get nothing more. Without it, each command is a new request
  --json                 print exactly one JSON run report on stdout (logs go to stderr)
  --quiet                no progress on stderr (shown for runs longer than 3 s: a live line on
                         a terminal, a line every 10 s otherwise)
  --time-budget <s>      print the report within <s> seconds of the start, as a Lambda timeout
                         would: work stops ${REPORT_RESERVE_MS / 1000} s before, and a create starts only
                         with ${CREATE_RESERVE_MS / 1000} s left for it and its key's store (users
                         left are deferred). Without it, each user is bounded by its lease
  --wait-for-lock <s>    when another run holds the run lock (the schedule, say), wait up to <s>
                         seconds for it to finish instead of exiting 1 at once (the wait counts
                         against --time-budget)`;

const DISABLE_USAGE = `Usage: atlas-x509-rotator disable-customer-x509 --config <file> --project <id>
         [--confirm <id> --requested-by <who> --reason <why>] [--json]

  Clears the project's customer CA (self-managed X.509) and restarts its clusters.
  Without --confirm it is a dry run; --confirm must repeat the project id exactly, and
  --requested-by and --reason are required with it (the audit record).`;

const COMMON_HELP = `
Atlas credentials: MONGODB_ATLAS_CLIENT_ID + MONGODB_ATLAS_CLIENT_SECRET (service account),
or MONGODB_ATLAS_PUBLIC_API_KEY + MONGODB_ATLAS_PRIVATE_API_KEY, or the credentials secret
named in the config. Log level: POWERTOOLS_LOG_LEVEL (default WARN; unless it is set, a failure
the report shows is not logged again on stderr).`;

class UsageError extends Error {}

/**
 * The runtime builds its AWS clients at module load (one per process, as in Lambda): loaded
 * only once a command really runs, so help and usage errors answer at once.
 */
const loadRuntime = () => {
  noteNodeVersion();
  return import('./runtime.js');
};

const parseOnly = (values: string[] | undefined): UserRef[] | undefined =>
  values?.map((value) => {
    const at = value.indexOf(':');
    if (at <= 0 || at === value.length - 1) {
      throw new UsageError(`--only expects <projectId>:<username>, got "${value}"`);
    }
    return { projectId: value.slice(0, at), username: value.slice(at + 1) };
  });

/**
 * Strict options only: an unknown flag or a stray argument is a usage error (exit 2); a
 * mistyped flag (`--dryrun`) is told the one it most likely meant.
 */
const parseOptions = <T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
) => {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: false, options }).values;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      throw new UsageError(unknownFlagMessage((err as Error).message, Object.keys(options)));
    }
    throw err;
  }
};

const stderrLogger = (): Log => cliLogger(process.env);

const rotate = async (argv: string[]): Promise<number> => {
  const args = parseOptions(argv, {
    config: { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    all: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
    'time-budget': { type: 'string' },
    'request-id': { type: 'string' },
    'wait-for-lock': { type: 'string' },
  });
  if (!args.config) throw new UsageError('--config is required');
  const waitSeconds = args['wait-for-lock'] === undefined ? 0 : Number(args['wait-for-lock']);
  if (!(Number.isFinite(waitSeconds) && waitSeconds >= 0)) {
    throw new UsageError('--wait-for-lock must be a number of seconds (0 or more)');
  }
  const budget = args['time-budget'] === undefined ? undefined : Number(args['time-budget']);
  if (budget !== undefined && !(budget * 1000 > REPORT_RESERVE_MS)) {
    throw new UsageError(
      `--time-budget must be a number of seconds above ${REPORT_RESERVE_MS / 1000} (the time the report itself needs)`,
    );
  }
  const request = parseRotateEvent({
    dryRun: args['dry-run'],
    force: args.force,
    only: parseOnly(args.only),
    all: args.all,
    // One id per forced command, printed: --request-id repeats it without a second mint.
    requestId: args['request-id'] ?? (args.force ? `cli-${randomUUID()}` : undefined),
  });
  if (request.force) process.stderr.write(`request id: ${request.requestId}\n`);
  // Counted from the process's start, like a Lambda timeout from the invoke.
  const deadline =
    budget === undefined ? undefined : performance.timeOrigin + budget * 1000 - REPORT_RESERVE_MS;
  const config = await loadConfigFile(args.config);
  const { rotateWithConfig } = await loadRuntime();
  const progress = args.quiet
    ? undefined
    : new Progress({ stream: process.stderr, live: process.stderr.isTTY === true });
  let toldWaiting = false;
  const report = await rotateWithConfig({
    config,
    request,
    log: stderrLogger(),
    deadline: () => deadline,
    progress: progress?.update,
    lockWaitMs: waitSeconds * 1000,
    // Said once, so a wait of a minute is not mistaken for a hang.
    onLockWait: (holder, leftMs) => {
      if (args.quiet || toldWaiting) return;
      toldWaiting = true;
      process.stderr.write(
        `Waiting for the run lock, held by ${holder}: up to ${Math.ceil(leftMs / 1000)} s\n`,
      );
    },
  }).finally(() => progress?.stop());
  if (report.lockedOut && waitSeconds === 0) {
    process.stderr.write('To wait for the run holding the lock, add --wait-for-lock <seconds>.\n');
  }
  process.stdout.write(
    args.json
      ? `${JSON.stringify(report, null, 2)}\n`
      : formatReport(report, tableStyle(colorsFor(process.stdout))),
  );
  return exitCodeFor(report);
};

const disable = async (argv: string[]): Promise<number> => {
  const args = parseOptions(argv, {
    config: { type: 'string' },
    project: { type: 'string' },
    confirm: { type: 'string' },
    'requested-by': { type: 'string' },
    reason: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (!args.config) throw new UsageError('--config is required');
  if (!args.project) throw new UsageError('--project is required');
  const request = parseDisableRequest({
    projectId: args.project,
    confirm: args.confirm,
    requestedBy: args['requested-by'],
    reason: args.reason,
  });
  const { disableWithConfig } = await loadRuntime();
  const report = inCliLanguage(
    await disableWithConfig({
      config: await loadConfigFile(args.config),
      request,
      log: stderrLogger(),
    }),
    args.config,
  );
  process.stdout.write(
    args.json ? `${JSON.stringify(report, null, 2)}\n` : formatDisableReport(report),
  );
  return 0;
};

/** A shell word: quoted unless it is plainly safe. */
const shellWord = (word: string): string =>
  /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;

/** The dry run's advice as the command to run, not the handler's payload. */
const inCliLanguage = (report: DisableReport, configPath: string): DisableReport => {
  const id = report.projectId;
  const command = `atlas-x509-rotator disable-customer-x509 --config ${shellWord(configPath)} --project ${id} --confirm ${id} --requested-by '<who>' --reason '<why>'`;
  return {
    ...report,
    message: report.message.replace(confirmAdvice(id), `To disable, run: ${command}`),
  };
};

const DOCTOR_USAGE = `Usage: atlas-x509-rotator doctor --config <file> [--json]

  Checks, read-only, whether a real run would work: the AWS Region, account and endpoints it
  uses; the Atlas credential (a token is requested, or a Digest-signed read made) and what it may
  read (database users, certificates, userSecurity, /rateLimits); the lease table, the KMS keys
  the config names, the secrets under the prefix (list, read, decrypt) and the event bus. Then
  each user's prediction from the dry run itself (rotate --dry-run), including discovered users.
  One line each, with a remedy.

  --config <file>        rotation config (JSON)
  --json                 print exactly one JSON document on stdout (findings, region, account,
                         endpoints, users, verdict)

  Exit 0 only when a real run would succeed for every user; 1 otherwise.`;

const doctor = async (argv: string[]): Promise<number> => {
  const args = parseOptions(argv, {
    config: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (!args.config) throw new UsageError('--config is required');
  const config = await loadConfigFile(args.config);
  noteNodeVersion();
  const { runDoctor, formatDoctor } = await import('./cli/doctor.js');
  const report = await runDoctor({ config, log: stderrLogger() });
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatDoctor(report));
  return report.verdict === 'ok' ? 0 : 1;
};

const COMMANDS: Record<string, { run: (argv: string[]) => Promise<number>; usage: string }> = {
  rotate: { run: rotate, usage: ROTATE_USAGE },
  'disable-customer-x509': { run: disable, usage: DISABLE_USAGE },
  doctor: { run: doctor, usage: DOCTOR_USAGE },
};

const USAGE = `Usage: atlas-x509-rotator <command> [options]

Commands:
  rotate                 renew the configured users' certificates that are due (the scheduled job)
  disable-customer-x509  clear a project's customer CA (guarded: a dry run unless confirmed)
  doctor                 check, read-only, whether a real run would work for every user

Run \`atlas-x509-rotator <command> --help\` for its options; --version prints the version.`;

/**
 * The AWS SDK warns in nine lines, on every process below Node 22, that its releases after
 * January 2027 need 22. True for this package too, so one line says it, only when a command
 * runs (never for help), and the SDK's own switch silences both.
 */
const noteNodeVersion = (): void => {
  const SILENCE = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22 && process.env[SILENCE] !== 'true') {
    process.stderr.write(
      `Note: Node ${process.version} is past its end of life; releases of atlas-x509-rotator (and of the AWS SDK in it) after January 2027 need Node 22 or later. ${SILENCE}=true silences this.\n`,
    );
  }
  process.env[SILENCE] = 'true';
};

/** Runs `<command> [options]`; resolves to the exit status. */
export const main = async (argv: string[]): Promise<number> => {
  const [name = '', ...rest] = argv;
  if (name === '--help' || name === '-h') {
    process.stdout.write(`${USAGE}\n${COMMON_HELP}\n`);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${packageJson.version}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    const meant = name ? closest(name, Object.keys(COMMANDS)) : undefined;
    const hint = meant ? `\nDid you mean \`atlas-x509-rotator ${meant}\`?\n` : '';
    process.stderr.write(`${name ? `Unknown command "${name}"\n\n` : ''}${USAGE}\n${hint}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n${COMMON_HELP}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    const invalidArgs =
      err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    if (invalidArgs) {
      process.stderr.write(`${(err as Error).message}\n\n${command.usage}\n`);
      return 2;
    }
    if (isRequestError(err)) {
      const { message, remedy } = inFlagLanguage(err, name);
      process.stderr.write(`${message}\n→ ${remedy}\n`);
      return 2;
    }
    if (err instanceof RotatorError) {
      process.stderr.write(`${err.message}\n→ ${err.remedy}\n`);
      return ['INVALID_CONFIG', 'INVALID_REQUEST', 'REFUSED'].includes(err.code) ? 2 : 1;
    }
    process.stderr.write(`Unexpected error: ${(err as Error).name}: ${(err as Error).message}\n`);
    return 1;
  }
};
