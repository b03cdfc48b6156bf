import { randomUUID } from 'node:crypto';
import { AtlasClient } from './atlas/client.js';
import { dynamoDb, secretsManager } from './clients.js';
import type { RotatorConfig } from './config.js';
import { resolveAtlasCredentials } from './credentials.js';
import { LeaseTable } from './lease.js';
import type { Log } from './log.js';
import type { RunReport } from './report.js';
import { type RotationRequest, type RotationTuning, runRotation } from './rotation.js';
import { SecretStore } from './store.js';

/**
 * Wires the real collaborators (Atlas over undici, Secrets Manager, DynamoDB) into a rotation
 * run. The Lambda handler and the CLI both call this, so they share every line of logic.
 */
export interface RunOptions {
  config: RotatorConfig;
  request: RotationRequest;
  log: Log;
  env?: NodeJS.ProcessEnv;
  /** Epoch ms by which the run must be done. */
  deadline?: (() => number | undefined) | undefined;
  runId?: string;
  now?: () => Date;
  tuning?: Partial<RotationTuning>;
}

export const rotateWithConfig = async (options: RunOptions): Promise<RunReport> => {
  const { config, log } = options;
  const now = options.now ?? (() => new Date());
  const runId = options.runId ?? randomUUID();
  const credentials = await resolveAtlasCredentials({
    env: options.env ?? process.env,
    secretId: config.atlas.credentialsSecretId,
    secrets: secretsManager,
  });
  const atlas = new AtlasClient({
    baseUrl: config.atlas.baseUrl,
    credentials,
    deadline: options.deadline,
    now: () => now().getTime(),
    log,
  });
  return runRotation(
    {
      config,
      atlas,
      store: new SecretStore(secretsManager),
      leases: new LeaseTable(dynamoDb, {
        tableName: config.locks.tableName,
        leaseMs: config.locks.leaseSeconds * 1000,
        owner: runId,
        now,
      }),
      log,
      runId,
      now,
      deadline: options.deadline,
      tuning: options.tuning,
    },
    options.request,
  );
};
