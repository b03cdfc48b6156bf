/**
 * How an application consumes the rotated certificate: with the consumer the package ships,
 * `atlas-x509-rotator/consumer` (source: functions/consumer/index.ts). It reads `AWSCURRENT`,
 * logs in with MONGODB-X509 from memory, polls for a new version, and switches clients without
 * failing an operation; a refresh that fails keeps the working client.
 *
 * The import below points at the source so the repository type-checks without a build; in an
 * application it is `import { AtlasX509Client } from 'atlas-x509-rotator/consumer'` (or
 * `require('atlas-x509-rotator/consumer')`), beside the application's own `mongodb` and
 * `@aws-sdk/client-secrets-manager`.
 */
import { AtlasX509Client, type AtlasX509ClientOptions } from '../../functions/consumer/index.js';

/** The part of an EventBridge event this reads: the rotator's `Atlas X509 Certificate Rotated`. */
export interface RotatedEvent {
  'detail-type': string;
  detail: { secretName?: string; secretArn?: string };
}

export interface OrdersDatabase {
  consumer: AtlasX509Client;
  /** Wire to the rotation event (e.g. EventBridge → SQS the service reads): refreshes at once. */
  onRotationEvent(event: RotatedEvent): Promise<void>;
}

/**
 * Connects at start-up (failing start-up if the certificate does not log in), polls every 15
 * minutes, and logs a refresh that failed: the service keeps running on the certificate it has,
 * which stays valid in Atlas until it expires, while someone looks.
 */
export const connectOrdersDatabase = async (
  options: Pick<AtlasX509ClientOptions, 'secretId' | 'uri'> &
    Partial<Pick<AtlasX509ClientOptions, 'secrets' | 'driverOptions' | 'refreshIntervalMs'>>,
  log: (line: string) => void = console.error,
): Promise<OrdersDatabase> => {
  const consumer = await AtlasX509Client.connect({
    refreshIntervalMs: 15 * 60_000,
    ...options,
    onSwitch: (s) => log(`database certificate ${s.previousSerialNumber} -> ${s.serialNumber}`),
    onRefreshFailed: (f) => log(`database certificate refresh failed (${f.reason}): ${f.message}`),
  });
  return {
    consumer,
    async onRotationEvent(event) {
      const ours =
        event.detail.secretName === options.secretId || event.detail.secretArn === options.secretId;
      if (event['detail-type'] === 'Atlas X509 Certificate Rotated' && ours) {
        await consumer.refresh();
      }
    },
  };
};
