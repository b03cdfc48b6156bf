import type { RotatorConfig } from '../../domain/config/types.js';
import type { Log } from '../../domain/log.js';
import {
  type Action,
  type RunReport,
  STOPPED_REASON,
  type UserReport,
} from '../../domain/report.js';
import { parseRotateEvent } from '../../domain/request.js';
import { keyOf } from '../../domain/rotation/index.js';
import { rotateWithConfig } from '../../runtime.js';
import { configuredKeys, keyCheckName } from './aws.js';
import type { CheckResult, CheckStatus } from './findings.js';

/**
 * What a real run would do with each user: the dry run itself (`rotate --dry-run`, the same
 * code), then what a dry run cannot meet because it writes nothing — the lease table a due
 * user's lease is taken in, and the KMS key a first mint creates its secret with.
 */

export interface Prediction {
  projectId: string;
  username: string;
  secretName: string;
  /** False: not in the config, found by the project's discovery. */
  configured: boolean;
  /** `warn`: this run would succeed, a later one would not (its renewal would fail). */
  status: CheckStatus;
  /** The dry run's row. */
  action: Action;
  detail: string;
  errorCode?: string;
  remedy?: string;
}

/** Runs `rotate --dry-run` in-process: the very request the CLI would build. */
export const dryRun = (options: {
  config: RotatorConfig;
  log: Log;
  env: NodeJS.ProcessEnv;
}): Promise<RunReport> =>
  rotateWithConfig({ ...options, request: parseRotateEvent({ dryRun: true }) });

const failedWith = (
  p: Omit<Prediction, 'status' | 'detail'>,
  blocker: CheckResult,
): Prediction => ({
  ...p,
  status: 'fail',
  detail: `would fail: ${blocker.code ?? 'FAILED'}: ${blocker.name} (see above)`,
  errorCode: blocker.code,
  remedy: blocker.remedy,
});

/** The user's own prediction from its dry-run row and the checks a dry run does not make. */
const predictRow = (
  row: UserReport,
  report: RunReport,
  configured: ReadonlySet<string>,
  keyOfUser: (row: UserReport) => string | undefined,
  findings: readonly CheckResult[],
): Prediction => {
  const base = {
    projectId: row.projectId,
    username: row.username,
    secretName: row.secretName,
    configured: configured.has(keyOf(row)),
    action: row.action,
  };
  if (row.action === 'failed') {
    const stop = row.reason === STOPPED_REASON ? report.error : undefined;
    return {
      ...base,
      status: 'fail',
      // A stop is told once, by its finding or the dry-run line: the row only names it.
      detail: stop
        ? `would fail: ${stop.code} (the run stops: see above)`
        : `would fail: ${row.errorCode ?? 'FAILED'}: ${row.reason.replace(/^would fail: [A-Z0-9_]+: /, '')}`,
      errorCode: row.errorCode ?? stop?.code,
      remedy: stop ? stop.remedy : row.remedy,
    };
  }
  if (row.action === 'planned') {
    // A due user takes its lease first: a lease table that fails fails every due user.
    const run = findings.find((f) => f.status === 'fail' && f.scope === 'run');
    if (run) return failedWith(base, run);
    const key = keyOfUser(row);
    const badKey = findings.find((f) => f.status === 'fail' && key && f.name === keyCheckName(key));
    // An existing secret keeps its own key: only a first mint creates one with the config's.
    if (badKey && row.secretArn === undefined) return failedWith(base, badKey);
    return { ...base, status: 'ok', detail: row.reason };
  }
  const later = /its renewal would fail: /.test(row.reason);
  return { ...base, status: later ? 'warn' : 'ok', detail: row.reason };
};

export const predict = (
  report: RunReport,
  config: RotatorConfig,
  findings: readonly CheckResult[],
): Prediction[] => {
  const listed = new Map(
    config.projects.flatMap((p) => p.users.map((u) => [keyOf(u), u] as const)),
  );
  const configured = new Set(listed.keys());
  const keys = new Set(configuredKeys(config));
  // A discovered user has the defaults' key.
  const keyOfUser = (row: UserReport): string | undefined => {
    const key = listed.get(keyOf(row))?.kmsKeyId ?? config.defaults.kmsKeyId;
    return key && keys.has(key) ? key : undefined;
  };
  return report.users.map((row) => predictRow(row, report, configured, keyOfUser, findings));
};

/** The dry run's own line: how many users, and the stop, said here once if no check said it. */
export const dryRunFinding = (
  report: RunReport,
  predictions: readonly Prediction[],
  findings: readonly CheckResult[],
): CheckResult => {
  const discovered = predictions.filter((p) => !p.configured).length;
  const failing = predictions.filter((p) => p.status === 'fail').length;
  const s = report.summary;
  const counts = `${predictions.length} users (${predictions.length - discovered} configured, ${discovered} discovered): ${s.planned} planned, ${s.skipped} not due, ${failing} would fail`;
  const error = report.error;
  if (!error) return { name: 'dry run', status: 'ok', detail: counts };
  const told = findings.some((f) => f.status === 'fail' && f.code === error.code);
  return {
    name: 'dry run',
    status: 'fail',
    detail: told
      ? `${counts}; stopped: ${error.code} (see above)`
      : `${counts}; stopped: ${error.message}`,
    ...(told ? {} : { remedy: error.remedy }),
    code: error.code,
    scope: 'run',
  };
};
