import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/**
 * AWS SDK clients, created once per process (a Lambda container keeps them warm). They read
 * the SDK's standard configuration, so AWS_ENDPOINT_URL_SECRETS_MANAGER and
 * AWS_ENDPOINT_URL_DYNAMODB point them at moto_server locally. Construction does no I/O.
 */

// A minted key exists only in memory until it is stored: give writes room to ride out
// throttling by other writers in the account (the store paces its own under the quota). The
// SDK's standard retry backs off from 500 ms for throttling, doubling, with jitter.
export const secretsManager = new SecretsManagerClient({ maxAttempts: 8 });
export const dynamoDb = new DynamoDBClient({ maxAttempts: 4 });
export const eventBridge = new EventBridgeClient({ maxAttempts: 4 });
