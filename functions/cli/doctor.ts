import type { RotatorConfig } from '../domain/config/types.js';
import type { Log } from '../domain/log.js';
import { atlasChecks, credentialCheck } from './doctor/atlas.js';
import { awsChecks, configuredKeys } from './doctor/aws.js';
import type { CheckResult } from './doctor/findings.js';
import { stopsRun } from './doctor/findings.js';
import { type DoctorReport, verdictOf } from './doctor/format.js';
import { dryRun, dryRunFinding, predict } from './doctor/predict.js';
import { whereabouts } from './doctor/where.js';

/**
 * `atlas-x509-rotator doctor`: whether a real run would work, read-only. Where it looks (Region,
 * account, endpoints), the Atlas credential proven by a real call, what it may read, the lease
 * table, the KMS keys, the secrets and the bus; then each user's prediction from the dry run
 * itself (`rotate --dry-run`, the same code), failed where a write the dry run does not make
 * would fail. Nothing is minted, written or leased. The verdict is `ok` only when a real run
 * would succeed for every user.
 */

export type { CheckResult, CheckStatus } from './doctor/findings.js';
export { type DoctorReport, formatDoctor } from './doctor/format.js';

export const runDoctor = async (options: {
  config: RotatorConfig;
  log: Log;
  env?: NodeJS.ProcessEnv;
}): Promise<DoctorReport> => {
  const env = options.env ?? process.env;
  const { config, log } = options;
  const { where, results: findings } = await whereabouts(
    config,
    env,
    configuredKeys(config).length > 0,
  );
  const credential = await credentialCheck({ config, log, env });
  findings.push(credential.result);
  if (credential.atlas) {
    for (const project of config.projects) {
      const checks = await atlasChecks(config, credential.atlas, project.projectId);
      findings.push(...checks);
      if (checks.some(stopsRun)) break;
    }
  }
  findings.push(...(await awsChecks(config, env, where)));
  const report = await dryRun({ config, log, env });
  const users = predict(report, config, findings);
  const all: CheckResult[] = [...findings, dryRunFinding(report, users, findings)];
  return {
    ...verdictOf(all, users),
    region: where.region,
    account: where.account,
    endpoints: where.endpoints,
    findings: all,
    users,
    dryRun: {
      runId: report.runId,
      error: report.error && { code: report.error.code, message: report.error.message },
    },
  };
};
