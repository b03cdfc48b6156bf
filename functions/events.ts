import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { asError } from './errors.js';
import type { Log } from './log.js';

/**
 * Events for consumers and operators on EventBridge. Details carry names, ids, serials and
 * dates, never key material.
 */

export const EVENT_SOURCE = 'atlas-x509-rotator';

export type DetailType =
  | 'Atlas X509 Certificate Rotated'
  | 'Atlas X509 Rotation Failed'
  | 'Atlas X509 Certificate Approaching Expiry'
  | 'Atlas Customer X509 Disabled';

export interface EventPublisher {
  /** Publishes one event; resolves to whether EventBridge accepted it. Never throws. */
  publish(detailType: DetailType, detail: Record<string, unknown>): Promise<boolean>;
}

/** Publishes to a bus (`ROTATOR_EVENT_BUS`, default the account's default bus). */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly log: Log,
    private readonly busName = process.env.ROTATOR_EVENT_BUS ?? 'default',
  ) {}

  async publish(detailType: DetailType, detail: Record<string, unknown>): Promise<boolean> {
    try {
      const out = await this.client.send(
        new PutEventsCommand({
          Entries: [
            {
              Source: EVENT_SOURCE,
              DetailType: detailType,
              Detail: JSON.stringify(detail),
              EventBusName: this.busName,
            },
          ],
        }),
      );
      if ((out.FailedEntryCount ?? 0) === 0) return true;
      this.log.warn('EventBridge refused an event', {
        detailType,
        errorCode: out.Entries?.[0]?.ErrorCode,
      });
      return false;
    } catch (err) {
      // An event is a notification: its loss must not undo or fail the work it reports.
      this.log.warn('could not publish an event', { detailType, error: asError(err).name });
      return false;
    }
  }
}
