import { parseArgs } from 'node:util';
import { loadConfigFile } from './config.js';
import { RotatorError } from './errors.js';
import { SERVICE_NAME, StderrLogger } from './log.js';
import { exitCodeFor, formatReport } from './report.js';
import { parseRotateEvent } from './request.js';
import type { UserRef } from './rotation.js';
import { rotateWithConfig } from './runtime.js';

/**
 * Local CLI: the same run as the Lambda handler, for operators and the demo.
 * Exit 0 when nothing failed, 1 when a user failed, 2 for bad config or arguments.
 */

const USAGE = `Usage: npm run --silent rotate -- --config <file> [--dry-run]
         [--force (--only <projectId>:<username>... | --all)] [--only ...] [--json]
         [--time-budget <seconds>]

  --config <file>        rotation config (JSON)
  --dry-run              list and evaluate, report the plan; mint nothing, write nothing
  --force                mint even when not due; needs --only or --all
  --only <p>:<u>         restrict the run to these users (repeatable)
  --all                  with --force: every configured user
  --json                 print exactly one JSON run report on stdout (logs go to stderr)
  --time-budget <s>      stop starting new mints after this many seconds (deferred)

Atlas credentials: MONGODB_ATLAS_CLIENT_ID + MONGODB_ATLAS_CLIENT_SECRET (service account),
or MONGODB_ATLAS_PUBLIC_API_KEY + MONGODB_ATLAS_PRIVATE_API_KEY, or atlas.credentialsSecretId.
Log level: POWERTOOLS_LOG_LEVEL (default WARN).`;

class UsageError extends Error {}

const parseOnly = (values: string[] | undefined): UserRef[] | undefined =>
  values?.map((value) => {
    const at = value.indexOf(':');
    if (at <= 0 || at === value.length - 1) {
      throw new UsageError(`--only expects <projectId>:<username>, got "${value}"`);
    }
    return { projectId: value.slice(0, at), username: value.slice(at + 1) };
  });

export const main = async (argv: string[]): Promise<number> => {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const log = new StderrLogger({
    serviceName: SERVICE_NAME,
    logLevel: (process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN') as 'WARN',
  });
  try {
    if (!args.config) throw new UsageError('--config is required');
    const budget = args['time-budget'] === undefined ? undefined : Number(args['time-budget']);
    if (budget !== undefined && !(budget > 0))
      throw new UsageError('--time-budget must be a positive number of seconds');
    const request = parseRotateEvent({
      dryRun: args['dry-run'],
      force: args.force,
      only: parseOnly(args.only),
      all: args.all,
    });
    const config = await loadConfigFile(args.config);
    const startedAt = Date.now();
    const report = await rotateWithConfig({
      config,
      request,
      log,
      deadline: budget === undefined ? undefined : () => startedAt + budget * 1000,
    });
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
    return exitCodeFor(report);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof RotatorError) {
      process.stderr.write(`${err.message}\n→ ${err.remedy}\n`);
      return err.code === 'INVALID_CONFIG' || err.code === 'INVALID_REQUEST' ? 2 : 1;
    }
    process.stderr.write(`Unexpected error: ${(err as Error).name}: ${(err as Error).message}\n`);
    return 1;
  }
};

const parse = (argv: string[]) =>
  parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      config: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      all: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'time-budget': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }).values;

// Run when executed directly (tsx functions/cli.ts), not when imported by tests.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
