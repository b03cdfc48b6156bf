import { randomUUID } from 'node:crypto';
import type { AtlasCredentials } from './adapters/atlas/auth.js';
import { AtlasClient, type AtlasClientOptions } from './adapters/atlas/client.js';
import { checkCredentialExpiry } from './adapters/atlas/credential-expiry.js';
import { AdaptiveConcurrency } from './adapters/atlas/pacing.js';
import type { RateLimitInfo } from './adapters/atlas/transport.js';
import {
  dynamoDb,
  eventBridge,
  secretsManager,
  secretsManagerKeyWrites,
} from './adapters/aws/clients.js';
import { resolveAtlasCredentials } from './adapters/aws/credentials.js';
import { EventBridgePublisher, eventTarget } from './adapters/aws/events.js';
import type { KeyWriteRetryOptions } from './adapters/aws/key-write-retry.js';
import { LeaseTable } from './adapters/aws/lease-table.js';
import { sharedByEveryClient } from './adapters/aws/run-wide.js';
import { SecretStore } from './adapters/aws/secret-store.js';
import { runEvents } from './adapters/signals.js';
import type { RotatorConfig } from './domain/config.js';
import { consumersFromEnv } from './domain/consumers.js';
import {
  checkDisableAllowed,
  type DisableReport,
  type DisableRequest,
  disableCustomerX509,
} from './domain/customer-x509.js';
import type { EventPublisher } from './domain/events.js';
import type { Log } from './domain/log.js';
import type { EventsOutcome, RunReport } from './domain/report.js';
import {
  type RotationRequest,
  type RotationTuning,
  runRotation,
  systemClock,
} from './domain/rotation/index.js';

/**
 * Wires the real collaborators (Atlas over undici, Secrets Manager, DynamoDB, EventBridge)
 * into the domain operations. The Lambda handlers and the CLIs both call these, so they share
 * every line of logic.
 */

interface CommonOptions {
  config: RotatorConfig;
  log: Log;
  /** Atlas client tuning (tests shorten timeouts and backoff). */
  atlasClient?: Pick<AtlasClientOptions, 'retry' | 'requestTimeoutMs'>;
  env?: NodeJS.ProcessEnv;
  /** Epoch ms by which the work must be done. */
  deadline?: (() => number | undefined) | undefined;
  now?: () => Date;
}

/** The Atlas client for a command: the credential from the environment or its secret. */
export const atlasClient = async (
  options: CommonOptions,
  secretId: string | undefined,
  now: () => Date,
  onResponse?: (info: RateLimitInfo) => void,
): Promise<{ atlas: AtlasClient; credentials: AtlasCredentials }> => {
  const credentials = await resolveAtlasCredentials({
    env: options.env ?? process.env,
    secretId,
    secrets: secretsManager,
  });
  const atlas = new AtlasClient({
    ...options.atlasClient,
    baseUrl: options.config.atlas.baseUrl,
    credentials,
    deadline: options.deadline,
    now: () => now().getTime(),
    log: options.log,
    onResponse,
  });
  return { atlas, credentials };
};

/**
 * The publisher for this process's events: EventBridge, or, for a local run whose events would
 * reach a real bus (`eventTarget`), one that sends nothing and says so once.
 */
const eventPublisher = (log: Log): EventPublisher => {
  const target = eventTarget();
  if ('bus' in target) return new EventBridgePublisher(eventBridge, log, { busName: target.bus });
  return {
    publish: async () => {
      log.warn('events not published', { reason: target.skipped });
      return 0;
    },
  };
};

/** A finished run's events, and where they went for the report. */
const publishRunEvents = async (report: RunReport, log: Log, now: Date): Promise<EventsOutcome> => {
  if (report.dryRun) return { skipped: 'dry run' };
  // No region or credentials fails EventBridge as it failed the run: one message is enough.
  if (report.error && sharedByEveryClient(report.error.code)) {
    return { skipped: `the run stopped (${report.error.code}); EventBridge would fail alike` };
  }
  const target = eventTarget();
  if ('skipped' in target) {
    log.warn('events not published', { reason: target.skipped });
    return target;
  }
  const events = runEvents(report, now);
  const published = await new EventBridgePublisher(eventBridge, log, {
    busName: target.bus,
  }).publish(events);
  return { bus: target.bus, published, dropped: events.length - published };
};

export interface RunOptions extends CommonOptions {
  request: RotationRequest;
  runId?: string;
  tuning?: Partial<RotationTuning>;
  /** Backoff and budget of the key-holding writes (tests shorten them). */
  keyWriteRetry?: Pick<
    KeyWriteRetryOptions,
    'baseDelayMs' | 'maxDelayMs' | 'budgetMs' | 'attemptTimeoutMs'
  >;
  /** Told after each user (the CLI's progress line). */
  progress?: (done: number, total: number) => void;
}

/** A rotation run, then its events (Rotated, Failed, Approaching Expiry) on EventBridge. */
export const rotateWithConfig = async (options: RunOptions): Promise<RunReport> => {
  const { config, log } = options;
  const now = options.now ?? (() => new Date());
  const runId = options.runId ?? randomUUID();
  const pacing = new AdaptiveConcurrency(config.rotation.concurrency, () => now().getTime());
  const { atlas, credentials } = await atlasClient(
    options,
    config.atlas.credentialsSecretId,
    now,
    (info) => pacing.observe(info),
  );
  const report = await runRotation(
    {
      config,
      atlas,
      store: new SecretStore(secretsManager, {
        keyWrites: secretsManagerKeyWrites,
        keyWriteRetry: { ...options.keyWriteRetry, deadline: options.deadline },
      }),
      leases: new LeaseTable(dynamoDb, {
        tableName: config.locks.tableName,
        leaseMs: config.locks.leaseSeconds * 1000,
        owner: runId,
        now,
      }),
      log,
      runId,
      clock: { now, sleep: systemClock.sleep },
      deadline: options.deadline,
      tuning: options.tuning,
      limit: pacing.limit,
      paused: options.deadline ? () => pacing.paused : undefined,
      progress: options.progress,
      consumers: consumersFromEnv(options.env ?? process.env),
    },
    options.request,
  );
  const credential = await checkCredentialExpiry({
    atlas,
    credentials,
    organizationId: config.atlas.organizationId,
    now: now(),
    log,
  });
  if (credential) report.credential = credential;
  report.events = await publishRunEvents(report, log, now());
  return report;
};

export interface DisableOptions extends CommonOptions {
  request: DisableRequest;
  requestId?: string;
}

/** The disable operation, with the Project Owner credential when one is configured. */
export const disableWithConfig = async (options: DisableOptions): Promise<DisableReport> => {
  const { config, log, request } = options;
  const now = options.now ?? (() => new Date());
  // Refuse before reading any credential, let alone calling Atlas.
  checkDisableAllowed(config, request);
  const { disableCredentialsSecretId, credentialsSecretId } = config.atlas;
  return disableCustomerX509(
    {
      config,
      atlas: (await atlasClient(options, disableCredentialsSecretId ?? credentialsSecretId, now))
        .atlas,
      events: eventPublisher(log),
      log,
      requestId: options.requestId ?? randomUUID(),
      now,
    },
    request,
  );
};
