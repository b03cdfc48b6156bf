import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { asError } from '../../domain/errors.js';
import { EVENT_SOURCE, type EventPublisher, type RotatorEvent } from '../../domain/events.js';
import type { Log } from '../../domain/log.js';

/** The `EventPublisher` port on EventBridge. */

// PutEvents takes at most 10 entries a call.
const BATCH = 10;

/** Publishes to a bus (`ROTATOR_EVENT_BUS`, default the account's default bus). */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly log: Log,
    private readonly busName = process.env.ROTATOR_EVENT_BUS ?? 'default',
  ) {}

  async publish(events: readonly RotatorEvent[]): Promise<number> {
    let accepted = 0;
    for (let i = 0; i < events.length; i += BATCH) {
      const batch = events.slice(i, i + BATCH);
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
        this.log.warn('could not publish events', {
          count: batch.length,
          error: asError(err).name,
        });
      }
    }
    return accepted;
  }
}
