/**
 * The hard-timing scenarios of docs/reliability.md, each defined once: `npm run scenarios` runs
 * them all through the real CLI process and prints the doc's table; the fault suite
 * (test/faults/scenarios.test.ts) runs the short ones the same way and checks their bounds.
 */
import type { AwsFault } from '../aws/fault-proxy.js';
import type { Fault } from '../simulator/faults.js';

export interface Scenario {
  name: string;
  users: number;
  /** Each user already holds a certificate this many days from expiry (default: none stored). */
  heldDaysLeft?: number;
  args?: string[];
  /** SIGKILL the process group after this long, as Lambda's hard stop would. */
  killAfterMs?: number;
  atlasFaults?: Fault[];
  awsFaults?: AwsFault[];
  latencyCreateMs?: number;
  listLagMs?: number;
  /** Where EventBridge is: moto (default), a server that accepts and never answers, or a closed port. */
  eventBridge?: 'moto' | 'hung' | 'refused';
  /** Runs of the same command, one after the other. */
  runs?: number;
  /** Invoke the rotate Lambda handler with one forced payload (`requestedAt` fixed), not the CLI. */
  handlerPayload?: boolean;
  /** Wait this long after seeding, before the first run (not counted in its time). */
  settleMs?: number;
  rotation?: Record<string, unknown>;
  /** What may happen at most (docs/reliability.md's table): the suite fails above it. */
  atMost: { minted: number; lost: number; perUser: number };
  /** Short enough (seconds) for the fault suite, which runs it on every `npm test`. */
  inSuite?: true;
}

const throttled = (times: number, retryAfter: number): Fault => ({
  method: 'POST',
  path: '/certs',
  times,
  action: { type: 'error', status: 429, errorCode: 'RATE_LIMITED_TOKEN_BUCKET', retryAfter },
});
const throttleSm = (operation: string, chance: number): AwsFault => ({
  operation,
  errorType: 'ThrottlingException',
  message: 'Rate exceeded',
  times: Number.POSITIVE_INFINITY,
  chance,
});
const SM_OPERATIONS = [
  'ListSecrets',
  'DescribeSecret',
  'GetSecretValue',
  'CreateSecret',
  'PutSecretValue',
  'UpdateSecretVersionStage',
  'TagResource',
  'PutResourcePolicy',
];

export const SCENARIOS: Scenario[] = [
  {
    name: 'hard stop: --time-budget 100, create 429 ×3 (Retry-After 30), 8 s create, PutSecretValue throttled ×7, SIGKILL at 120 s',
    atMost: { minted: 0, lost: 0, perUser: 0 },
    users: 1,
    args: ['--time-budget', '100'],
    killAfterMs: 120_000,
    atlasFaults: [throttled(3, 30)],
    latencyCreateMs: 8_000,
    awsFaults: [{ ...throttleSm('PutSecretValue', 1), times: 7 }],
  },
  {
    name: 'the same with --time-budget 200',
    atMost: { minted: 1, lost: 0, perUser: 1 },
    users: 1,
    args: ['--time-budget', '200'],
    killAfterMs: 220_000,
    atlasFaults: [throttled(3, 30)],
    latencyCreateMs: 8_000,
    awsFaults: [{ ...throttleSm('PutSecretValue', 1), times: 7 }],
  },
  {
    name: '80-user first rotation, 60 % of all Secrets Manager calls throttled',
    atMost: { minted: 80, lost: 0, perUser: 1 },
    users: 80,
    awsFaults: SM_OPERATIONS.map((op) => throttleSm(op, 0.6)),
  },
  {
    name: '16 users, EventBridge accepts and never answers',
    users: 16,
    eventBridge: 'hung',
    atMost: { minted: 16, lost: 0, perUser: 1 },
  },
  {
    name: '200 users, EventBridge reachable',
    users: 200,
    atMost: { minted: 200, lost: 0, perUser: 1 },
  },
  {
    name: '200 users, EventBridge connection refused',
    users: 200,
    eventBridge: 'refused',
    atMost: { minted: 200, lost: 0, perUser: 1 },
  },
  {
    name: 'rotate handler invoked twice with the same forced payload (4 users), as the AWS CLI retries',
    atMost: { minted: 4, lost: 0, perUser: 1 },
    users: 4,
    heldDaysLeft: 60,
    runs: 2,
    handlerPayload: true,
  },
  {
    name: 'CLI without --time-budget, create 429 with Retry-After 300',
    atMost: { minted: 0, lost: 0, perUser: 0 },
    inSuite: true,
    users: 1,
    atlasFaults: [throttled(Number.POSITIVE_INFINITY, 300)],
  },
  {
    name: 'create response dropped after minting, list lagging 3 s',
    atMost: { minted: 2, lost: 1, perUser: 2 },
    inSuite: true,
    users: 1,
    atlasFaults: [{ method: 'POST', path: '/certs', action: { type: 'resetAfterProcessing' } }],
    listLagMs: 3_000,
  },
  {
    name: 'critical user, every certificate rejected (wrong key), 10 runs',
    atMost: { minted: 4, lost: 4, perUser: 4 },
    // Ten CLI processes: npm run scenarios only; the engine's rule is on fakes in the domain suite.
    users: 1,
    heldDaysLeft: 2,
    runs: 10,
    atlasFaults: [
      {
        method: 'POST',
        path: '/certs',
        times: Number.POSITIVE_INFINITY,
        action: { type: 'mangleCreate', mangle: 'wrongKey' },
      },
    ],
  },
];
