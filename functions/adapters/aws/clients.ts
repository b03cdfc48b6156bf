import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { KEY_WRITE_CONNECT_TIMEOUT_MS, KEY_WRITE_REQUEST_TIMEOUT_MS } from '../../domain/timing.js';
import { WRITE_PACE_STEP, writePace } from './write-pace.js';

/**
 * AWS SDK clients, created once per process (a Lambda container keeps them warm). They read
 * the SDK's standard configuration, so AWS_ENDPOINT_URL_SECRETS_MANAGER and
 * AWS_ENDPOINT_URL_DYNAMODB point them at moto_server locally. Construction does no I/O.
 */

// A minted key exists only in memory until it is stored: give writes room to ride out
// throttling by other writers in the account (its own are paced under the quota, write-pace.ts). The
// SDK's standard retry backs off from 500 ms for throttling, doubling, with jitter.
//
// Every call is bounded: the SDK's default socket timeout is minutes, so a dependency that
// accepts a connection and never answers would hold a run until Lambda kills it. Each attempt
// gets a connect and a response timeout; the SDK retries a timed-out attempt like a network
// error. Values are the worst a healthy service in the same region takes, with room. Without
// throwOnRequestTimeout, the SDK (smithy node-http-handler 4.x) only logs a warning when
// requestTimeout passes and keeps waiting.
const bounded = (connectionTimeout: number, requestTimeout: number) => ({
  connectionTimeout,
  requestTimeout,
  throwOnRequestTimeout: true,
});

export const secretsManager = new SecretsManagerClient({
  maxAttempts: 8,
  requestHandler: bounded(3_000, 10_000),
});
/**
 * PutSecretValue and the label moves only: SDK retries off, so they never find the shared
 * retry-token bucket empty; `retryKeyWrite` retries them within KEY_WRITE_BUDGET_MS. Short
 * attempts, so a slow one leaves room for several more.
 */
export const secretsManagerKeyWrites = new SecretsManagerClient({
  maxAttempts: 1,
  requestHandler: bounded(KEY_WRITE_CONNECT_TIMEOUT_MS, KEY_WRITE_REQUEST_TIMEOUT_MS),
});
// Both share one pace per write family (write-pace.ts), retries included.
secretsManager.middlewareStack.add(writePace, WRITE_PACE_STEP);
secretsManagerKeyWrites.middlewareStack.add(writePace, WRITE_PACE_STEP);

export const dynamoDb = new DynamoDBClient({
  maxAttempts: 4,
  requestHandler: bounded(3_000, 5_000),
});
// Events are best effort, and the publisher caps a whole publish (PUBLISH_BUDGET_MS).
export const eventBridge = new EventBridgeClient({
  maxAttempts: 2,
  requestHandler: bounded(1_000, 2_000),
});
