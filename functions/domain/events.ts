/**
 * The events the rotator publishes for consumers and operators (the port; the EventBridge
 * adapter is `adapters/aws/events.ts`). Details carry names, ids, serials and dates, never key
 * material.
 */

import type { DetailType } from './names.js';

export interface RotatorEvent {
  detailType: DetailType;
  detail: Record<string, unknown>;
}

export interface EventPublisher {
  /** Publishes events; resolves to how many EventBridge accepted. Never throws. */
  publish(events: readonly RotatorEvent[]): Promise<number>;
}
