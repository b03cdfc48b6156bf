import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import pLimit from 'p-limit';
import { asError } from '../../domain/errors.js';
import type { EventPublisher, RotatorEvent } from '../../domain/events.js';
import type { Log } from '../../domain/log.js';
import { EVENT_SOURCE } from '../../domain/names.js';
import { PUBLISH_BUDGET_MS } from '../../domain/timing.js';
import { endpointOverride, isLocalEndpoint } from './endpoints.js';

/**
 * The `EventPublisher` port on EventBridge. Events are notifications: best effort, and bounded
 * in time as a whole, so a hung or unreachable bus never delays or loses the report they follow.
 */

// PutEvents takes at most 10 entries a call.
const BATCH = 10;
/**
 * PutEvents calls in flight: a 10,000-user run has 1,000 batches, which one at a time would not
 * fit the events budget. Far below the PutEvents quota (thousands of entries a second per Region).
 */
const BATCHES_IN_FLIGHT = 8;

export const busFrom = (env: NodeJS.ProcessEnv): string =>
  env.ROTATOR_EVENT_BUS?.trim() || 'default';

/**
 * Where this process's events go: a bus, or nowhere when Secrets Manager is a local server and
 * EventBridge has no endpoint of its own. The SDK would then send a local run's events to the
 * real bus of whatever account the shell's credentials belong to. The Lambda sets no endpoint.
 */
export const eventTarget = (
  env: NodeJS.ProcessEnv = process.env,
): { bus: string } | { skipped: string } => {
  const secrets = endpointOverride('Secrets Manager', env);
  if (secrets && isLocalEndpoint(secrets.url) && !endpointOverride('EventBridge', env)) {
    return {
      skipped: `Secrets Manager is local (${secrets.variable}=${secrets.url}) and EventBridge is not (set AWS_ENDPOINT_URL_EVENTBRIDGE to publish locally): not publishing to a real bus`,
    };
  }
  return { bus: busFrom(env) };
};

export interface PublisherOptions {
  /** @default ROTATOR_EVENT_BUS, else the account's default bus */
  busName?: string;
  /** @default PUBLISH_BUDGET_MS */
  budgetMs?: number;
}

/** Publishes to a bus (`ROTATOR_EVENT_BUS`, default the account's default bus). */
export class EventBridgePublisher implements EventPublisher {
  /** The bus events are put on. */
  readonly busName: string;
  private readonly budgetMs: number;

  constructor(
    private readonly client: EventBridgeClient,
    private readonly log: Log,
    options: PublisherOptions = {},
  ) {
    this.busName = options.busName ?? busFrom(process.env);
    this.budgetMs = options.budgetMs ?? PUBLISH_BUDGET_MS;
  }

  async publish(events: readonly RotatorEvent[]): Promise<number> {
    let accepted = 0;
    let stopped = false;
    const budget = AbortSignal.timeout(this.budgetMs);
    const limit = pLimit(BATCHES_IN_FLIGHT);
    const batches = Array.from({ length: Math.ceil(events.length / BATCH) }, (_, n) =>
      events.slice(n * BATCH, (n + 1) * BATCH),
    );
    const send = async (batch: readonly RotatorEvent[], n: number): Promise<void> => {
      if (stopped) return;
      try {
        const out = await this.client.send(
          new PutEventsCommand({
            Entries: batch.map((e) => ({
              Source: EVENT_SOURCE,
              DetailType: e.detailType,
              Detail: JSON.stringify(e.detail),
              EventBusName: this.busName,
            })),
          }),
          { abortSignal: budget },
        );
        const failed = out.FailedEntryCount ?? 0;
        accepted += batch.length - failed;
        if (failed > 0) {
          this.log.warn('EventBridge refused events', {
            failed,
            errorCodes: out.Entries?.map((e) => e.ErrorCode).filter(Boolean),
          });
        }
      } catch (err) {
        // An event is a notification: its loss must not undo or fail the work it reports.
        // The SDK has retried already, so the bus is not answering: the rest would wait the
        // same. Batches already in flight finish; no more are sent.
        if (stopped) return;
        stopped = true;
        const e = asError(err);
        this.log.warn("could not publish events; the rest of this run's events are dropped", {
          bus: this.busName,
          dropped: events.length - n * BATCH,
          error: budget.aborted ? 'TimeoutError' : e.name,
          reason: budget.aborted
            ? `no answer within the ${this.budgetMs} ms budget for events`
            : e.message,
        });
      }
    };
    // The first batch alone: a bus that does not answer costs one call, not a wave of them.
    const [first, ...rest] = batches;
    if (first) await send(first, 0);
    await Promise.all(rest.map((batch, n) => limit(() => send(batch, n + 1))));
    return accepted;
  }
}
