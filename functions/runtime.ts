import { randomUUID } from 'node:crypto';
import type { AtlasCredentials } from './adapters/atlas/auth.js';
import { AtlasClient } from './adapters/atlas/client.js';
import type { AtlasClientOptions } from './adapters/atlas/client-options.js';
import { checkCredentialExpiry } from './adapters/atlas/credential-expiry.js';
import { RateLimitPacing, type RequestPace } from './adapters/atlas/pacing.js';
import {
  dynamoDb,
  eventBridge,
  secretsManager,
  secretsManagerKeyWrites,
} from './adapters/aws/clients.js';
import { atlasCredentialSource } from './adapters/aws/credentials.js';
import { EventBridgePublisher, eventTarget } from './adapters/aws/events.js';
import type { KeyWriteRetryOptions } from './adapters/aws/key-write-retry.js';
import { LeaseTable } from './adapters/aws/lease-table.js';
import { checkReplicaRegions } from './adapters/aws/replica-regions.js';
import { sharedByEveryClient } from './adapters/aws/run-wide.js';
import { SecretStore } from './adapters/aws/secret-store.js';
import { lazyLoginCheck } from './adapters/mongodb/lazy.js';
import { runEvents } from './adapters/signals.js';
import { longestRenewalWindowDays } from './domain/config/lifetime.js';
import type { RotatorConfig } from './domain/config/types.js';
import { consumersFromEnv } from './domain/consumers.js';
import {
  checkDisableAllowed,
  type DisableReport,
  type DisableRequest,
  disableCustomerX509,
} from './domain/customer-x509.js';
import type { EventPublisher } from './domain/events.js';
import type { Log } from './domain/log.js';
import {
  type EventsOutcome,
  type LockedOut,
  type RunReport,
  type RunTrigger,
  summarize,
} from './domain/report.js';
import {
  farFromRenewal,
  finishRun,
  type GateOptions,
  gateRun,
  keepRunLock,
  releaseRun,
} from './domain/rotation/catch-up.js';
import {
  keyOf,
  type RotationRequest,
  type RotationTuning,
  runRotation,
  systemClock,
  type UserRef,
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
  atlasClient?: Pick<AtlasClientOptions, 'retry' | 'requestTimeoutMs' | 'createReserveMs'>;
  env?: NodeJS.ProcessEnv;
  /** Epoch ms by which the work must be done. */
  deadline?: (() => number | undefined) | undefined;
  now?: () => Date;
}

/**
 * The Atlas client for a command: the credential from the environment or its secret, read on
 * every call (never kept between invocations: Secrets Manager may rotate it), and read again
 * once if Atlas rejects it mid-run.
 */
export const atlasClient = async (
  options: CommonOptions,
  secretId: string | undefined,
  now: () => Date,
  pace?: RequestPace,
): Promise<{ atlas: AtlasClient; credentials: AtlasCredentials }> => {
  const { credentials, reread } = await atlasCredentialSource({
    env: options.env ?? process.env,
    secretId,
    secrets: secretsManager,
    organizationId: options.config.atlas.organizationId,
  });
  const atlas = new AtlasClient({
    ...options.atlasClient,
    baseUrl: options.config.atlas.baseUrl,
    credentials,
    rereadCredentials: reread,
    deadline: options.deadline,
    now: () => now().getTime(),
    log: options.log,
    pace,
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
  /** Who started the run: every writing run holds the run lock (`catch-up.ts`). @default 'manual' */
  trigger?: RunTrigger;
  /** How long a manual run waits for another run's lock before it gives up. @default 0 */
  lockWaitMs?: number;
  /** Told each time a manual run starts to wait for the run lock (the CLI says so on stderr). */
  onLockWait?: GateOptions['onWait'];
}

/**
 * The longest each user's renewal window can be (`longestRenewalWindowDays`); discovered users
 * have the defaults. One lookup table per run: a large run asks for thousands of deferred rows.
 */
export const renewalWindowDays = (config: RotatorConfig): ((row: UserRef) => number) => {
  const listed = new Map(
    config.projects.flatMap((p) =>
      p.users.map((u) => [keyOf(u), longestRenewalWindowDays(u)] as const),
    ),
  );
  const fallback = longestRenewalWindowDays(config.defaults);
  return (row) => listed.get(keyOf(row)) ?? fallback;
};

/** A run that did nothing, and why (`catch-up.ts`). */
const notRunReport = (
  runId: string,
  trigger: RunTrigger,
  at: Date,
  reason: string,
  log: Log,
  lockedOut?: LockedOut,
): RunReport => {
  // A run the lock refused is worth a warning: its work waits for another run.
  if (lockedOut) log.warn('run not started', { runId, reason });
  else log.info('run not started', { runId, reason });
  return {
    runId,
    dryRun: false,
    startedAt: at.toISOString(),
    finishedAt: at.toISOString(),
    summary: summarize([]),
    trigger,
    notRun: reason,
    ...(lockedOut ? { lockedOut } : {}),
    users: [],
  };
};

/** A rotation run, then its events (Rotated, Failed, Approaching Expiry) on EventBridge. */
export const rotateWithConfig = async (options: RunOptions): Promise<RunReport> => {
  const { config, log } = options;
  const now = options.now ?? (() => new Date());
  const runId = options.runId ?? randomUUID();
  const trigger = options.trigger ?? 'manual';
  const leases = new LeaseTable(dynamoDb, {
    tableName: config.locks.tableName,
    leaseMs: config.locks.leaseSeconds * 1000,
    owner: runId,
    now,
  });
  const catchUp = { notes: leases, leases, log };
  const gate = await gateRun(catchUp, trigger, options.request.dryRun, {
    maxRuns: config.rotation.catchUpRuns,
    waitMs: options.lockWaitMs,
    onWait: options.onLockWait,
    now,
  });
  if (!gate.go) return notRunReport(runId, trigger, now(), gate.reason, log, gate.lockedOut);
  // Renewed at a third of the lease: two renewals may fail before it lapses.
  const stopRenewing = keepRunLock(catchUp, gate, (config.locks.leaseSeconds * 1000) / 3);
  try {
    await checkReplicaRegions(config, secretsManager);
    const pacing = new RateLimitPacing({
      maxUsers: config.rotation.concurrency,
      now: () => now().getTime(),
    });
    // A read waits for a token only if its user's create could still start (tuning's reserve).
    const reserve = options.tuning?.minTimeForMintMs;
    const withReserve = {
      ...options,
      atlasClient: { ...options.atlasClient, createReserveMs: reserve },
    };
    const { atlas } = await atlasClient(withReserve, config.atlas.credentialsSecretId, now, pacing);
    await pacing.prime(atlas, config.projects[0]?.projectId, log);
    const report = await runRotation(
      {
        config,
        atlas,
        store: new SecretStore(secretsManager, {
          keyWrites: secretsManagerKeyWrites,
          keyWriteRetry: { ...options.keyWriteRetry, deadline: options.deadline },
        }),
        leases,
        log,
        runId,
        clock: { now, sleep: systemClock.sleep },
        deadline: options.deadline,
        tuning: options.tuning,
        pace: pacing,
        progress: options.progress,
        consumers: consumersFromEnv(options.env ?? process.env),
        // The driver loads on the first check only (`lazy.ts`): most runs never pay for it.
        loginCheck: config.projects.some((p) => p.verify) ? lazyLoginCheck() : undefined,
      },
      options.request,
    );
    // The credential in use after the run (a re-read may have replaced it); its secret may name
    // its organization when the config does not.
    const credentials = atlas.credentials;
    const credential = await checkCredentialExpiry({
      atlas,
      credentials,
      organizationId:
        config.atlas.organizationId ??
        (credentials.kind === 'serviceAccount' ? credentials.orgId : undefined),
      now: now(),
      log,
    });
    if (credential) report.credential = credential;
    const canWait = farFromRenewal(renewalWindowDays(config), now());
    const next = await finishRun(
      catchUp,
      gate,
      trigger,
      report,
      config.rotation.catchUpRuns,
      canWait,
    );
    if (next) report.catchUp = next;
    report.trigger = trigger;
    report.events = await publishRunEvents(report, log, now());
    return report;
  } finally {
    stopRenewing();
    await releaseRun(catchUp, gate);
  }
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
