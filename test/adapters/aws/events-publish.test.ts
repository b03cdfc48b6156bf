import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { EventBridgePublisher } from '../../../functions/adapters/aws/events.js';
import type { RotatorEvent } from '../../../functions/domain/events.js';
import { silentLog } from '../../../functions/domain/log.js';

const client = new EventBridgeClient({ region: 'us-east-1' });
const eventBridge = mockClient(client);
afterAll(() => eventBridge.restore());

const events = (n: number): RotatorEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    detailType: 'Certificate Rotated',
    detail: { runId: 'r', username: `u${i}` },
  })) as unknown as RotatorEvent[];

describe('event publishing, a large run', () => {
  it('puts 10 a call, several calls at once after the first: 1,000 events fit the budget', async () => {
    let inFlight = 0;
    let peak = 0;
    eventBridge.on(PutEventsCommand).callsFake(async (input: { Entries: unknown[] }) => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      return { FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'e' })) };
    });
    const publisher = new EventBridgePublisher(client, silentLog, { busName: 'default' });
    expect(await publisher.publish(events(1000))).toBe(1000);
    expect(eventBridge.commandCalls(PutEventsCommand)).toHaveLength(100);
    expect(peak).toBe(8);
  });
});
