/**
 * The events the rotator publishes for consumers and operators (the port; the EventBridge
 * adapter is `adapters/aws/events.ts`). Details carry names, ids, serials and dates, never key
 * material.
 */

export const EVENT_SOURCE = 'atlas-x509-rotator';

export type DetailType =
  | 'Atlas X509 Certificate Rotated'
  | 'Atlas X509 Rotation Failed'
  | 'Atlas X509 Certificate Approaching Expiry'
  | 'Atlas Customer X509 Disabled';

export interface RotatorEvent {
  detailType: DetailType;
  detail: Record<string, unknown>;
}

export interface EventPublisher {
  /** Publishes events; resolves to how many EventBridge accepted. Never throws. */
  publish(events: readonly RotatorEvent[]): Promise<number>;
}
