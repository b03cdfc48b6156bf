import { parseArgs } from 'node:util';

/**
 * The benchmark's flags and the scenario description a child process receives. Defaults
 * follow the issue: 100, 1,000 and 5,000 users over 10 projects, both buckets, both modes,
 * latencies from recorded Atlas traffic.
 */

export const BUCKETS = {
  generous: { capacity: 100, refillPerSecond: 100 },
  // Atlas's stingiest published endpoint limits are a few requests per minute.
  stingy: { capacity: 10, refillPerSecond: 5 / 60 },
} as const;
export type BucketName = keyof typeof BUCKETS;
export type Mode = 'steady' | 'full';
export type Auth = 'oauth' | 'digest';

/** Server-side latencies, from `X-Envoy-Upstream-Service-Time` of the recorded responses. */
export interface Latencies {
  listMs: number;
  createMs: number;
  /** Token endpoint and everything else: not in the recorded traffic, so 0 unless given. */
  otherMs: number;
}

/** Everything one scenario needs; serialised to JSON for the child process that runs it. */
export interface ScenarioSpec {
  users: number;
  bucket: BucketName;
  mode: Mode;
  auth: Auth;
  /** Overrides `rotation.concurrency` when set. */
  concurrency: number | undefined;
  latency: Latencies;
  /** Stingy runs only: each run's deadline, seconds after it starts. */
  timeBudgetS: number;
  /** Stingy runs only: `tuning.minTimeForMintMs` (the core's 90 s assumes a 15-minute Lambda). */
  minTimeForMintS: number;
  /** Stingy runs only: most runs actually executed before the rest is projected. */
  maxRuns: number;
  /** Print progress to stderr every this many seconds. */
  progressEveryS: number;
}

export interface BenchOptions {
  users: number[];
  buckets: BucketName[];
  modes: Mode[];
  auth: Auth;
  concurrency: number | undefined;
  latency: Latencies;
  timeBudgetS: number;
  minTimeForMintS: number;
  maxRuns: number;
  /** Stingy scenarios mostly wait for the bucket: run this many at once (own processes). */
  parallel: number;
  /** Where to write the markdown report, if anywhere. */
  markdown: string | undefined;
  bundles: boolean;
  /** Internal: run one scenario (JSON) and write its result to `resultFile`. */
  child: string | undefined;
  resultFile: string | undefined;
}

const HELP = `npm run bench -- [options]
  --users 100,1000,5000        user counts (10 projects, users split evenly)
  --bucket generous|stingy|both
  --mode steady|full|both
  --auth oauth|digest          service account (default) or API key with HTTP Digest
  --concurrency N              override rotation.concurrency (default: the config's 64)
  --time-budget S              stingy runs: deadline of each run (default 120)
  --min-time-for-mint S        stingy runs: tuning.minTimeForMintMs (default 15)
  --max-runs N                 stingy runs: runs executed before projecting the rest (default 3)
  --parallel N                 stingy scenarios run at once, each in its own process (default 6)
  --list-ms / --create-ms / --other-ms   simulated Atlas latencies (55 / 870 / 0)
  --markdown FILE              also write the tables as markdown to FILE
  --no-bundles                 skip bundle size and module init time
`;

const fail = (message: string): never => {
  process.stderr.write(`bench: ${message}\n\n${HELP}`);
  process.exit(2);
};

const positive = (name: string, text: string, allowZero = false): number => {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) fail(`--${name} must be a number`);
  return n;
};

const choice = <T extends string>(name: string, text: string, all: readonly T[]): T[] => {
  if (text === 'both') return [...all];
  const picked = text.split(',').map((s) => s.trim());
  for (const p of picked) if (!all.includes(p as T)) fail(`--${name}: unknown value ${p}`);
  return picked as T[];
};

export const parseOptions = (argv: string[]): BenchOptions => {
  const { values } = parseArgs({
    args: argv,
    options: {
      users: { type: 'string', default: '100,1000,5000' },
      bucket: { type: 'string', default: 'both' },
      mode: { type: 'string', default: 'both' },
      auth: { type: 'string', default: 'oauth' },
      concurrency: { type: 'string' },
      'time-budget': { type: 'string', default: '120' },
      'min-time-for-mint': { type: 'string', default: '15' },
      'max-runs': { type: 'string', default: '3' },
      parallel: { type: 'string', default: '6' },
      'list-ms': { type: 'string', default: '55' },
      'create-ms': { type: 'string', default: '870' },
      'other-ms': { type: 'string', default: '0' },
      markdown: { type: 'string' },
      'no-bundles': { type: 'boolean', default: false },
      child: { type: 'string' },
      'result-file': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const users = values.users.split(',').map((u) => Math.round(positive('users', u)));
  const auth = choice('auth', values.auth, ['oauth', 'digest'] as const)[0] ?? 'oauth';
  return {
    users,
    buckets: choice('bucket', values.bucket, ['generous', 'stingy'] as const),
    modes: choice('mode', values.mode, ['steady', 'full'] as const),
    auth,
    concurrency:
      values.concurrency === undefined
        ? undefined
        : Math.round(positive('concurrency', values.concurrency)),
    latency: {
      listMs: positive('list-ms', values['list-ms'], true),
      createMs: positive('create-ms', values['create-ms'], true),
      otherMs: positive('other-ms', values['other-ms'], true),
    },
    timeBudgetS: positive('time-budget', values['time-budget']),
    minTimeForMintS: positive('min-time-for-mint', values['min-time-for-mint'], true),
    maxRuns: Math.round(positive('max-runs', values['max-runs'])),
    parallel: Math.round(positive('parallel', values.parallel)),
    markdown: values.markdown,
    bundles: !values['no-bundles'],
    child: values.child,
    resultFile: values['result-file'],
  };
};

/** Every scenario the options ask for, generous ones first (they are the timed ones). */
export const scenariosOf = (o: BenchOptions): ScenarioSpec[] =>
  o.buckets.flatMap((bucket) =>
    o.users.flatMap((users) =>
      o.modes.map((mode) => ({
        users,
        bucket,
        mode,
        auth: o.auth,
        concurrency: o.concurrency,
        latency: o.latency,
        timeBudgetS: o.timeBudgetS,
        minTimeForMintS: o.minTimeForMintS,
        maxRuns: o.maxRuns,
        progressEveryS: 15,
      })),
    ),
  );
