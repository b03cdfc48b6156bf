import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import { type ErrorCode, RotatorError } from '../../domain/errors.js';
import type { CatchUpState, CatchUpStore } from '../../domain/rotation/catch-up.js';
import type { LeasePort, LeaseResult } from '../../domain/rotation/ports.js';
import { runWideError } from './run-wide.js';

/**
 * Per-user leases in DynamoDB. A run takes a user's lease with a conditional write before it
 * mints and holds it until the new certificate is current, so overlapping runs (the schedule, a
 * manual invoke, the CLI) never mint twice. A lease carries an expiry: only a crashed run's lease
 * has to lapse, and the table's TTL removes it later. Expiry is judged on the holder's clock plus
 * CLOCK_SKEW_BOUND_MS, never on the acquirer's alone (below).
 */

export class LeaseError extends RotatorError {
  constructor(
    message: string,
    code: ErrorCode,
    remedy: string,
    scope: 'run' | 'user',
    cause?: unknown,
  ) {
    super(message, { code, remedy, scope, cause });
    this.name = 'LeaseError';
  }
}

const errorName = (err: unknown): string => (err as { name?: string } | undefined)?.name ?? 'Error';
// DynamoDB's messages name tables, actions and principals; one line of it is enough.
const messageOf = (err: unknown): string =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0]?.slice(0, 300) ?? '';

export interface LeaseTableOptions {
  tableName: string;
  leaseMs: number;
  /** Identifies this run in the lease, so only it can release it. */
  owner: string;
  now: () => Date;
}

/**
 * How far another host's clock may be off before it could take a live lease. DynamoDB's
 * condition expressions cannot read a server clock, and the AWS SDK corrects its own signing
 * clock for skew (so a host minutes off still writes), so a lease's expiry is judged on its
 * holder's own clock (`expiresAt`, written by the holder) and another run may take it only this
 * long after it: hosts whose clocks differ by less never hold one user's lease at once. The holder
 * itself stops 30 s before its own expiry (`deadlines.ts`). The cost: a crashed run's lease
 * blocks this much longer. Its holder re-taking it (same owner) never waits.
 */
export const CLOCK_SKEW_BOUND_MS = 10 * 60_000;

/** The lease-table key of the catch-up note (`domain/rotation/catch-up.ts`). */
const CATCH_UP_KEY = '#catch-up';
/** A note nobody acted on for this long is stale (the table's TTL removes it). */
const CATCH_UP_TTL_SECONDS = 2 * 86_400;

export class LeaseTable implements LeasePort, CatchUpStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly options: LeaseTableOptions,
  ) {}

  private missing(cause: unknown): LeaseError {
    const { tableName } = this.options;
    return new LeaseError(
      `Lease table ${tableName} does not exist`,
      'LEASE_TABLE_MISSING',
      `Deploy the stack, or create it: aws dynamodb create-table --table-name ${tableName} --attribute-definitions AttributeName=pk,AttributeType=S --key-schema AttributeName=pk,KeyType=HASH --billing-mode PAY_PER_REQUEST`,
      'run',
      errorName(cause),
    );
  }

  /** Fails the run early and clearly when the table is missing or unreachable. */
  async check(): Promise<void> {
    try {
      await this.client.send(new DescribeTableCommand({ TableName: this.options.tableName }));
    } catch (err) {
      if (err instanceof ResourceNotFoundException) throw this.missing(err);
      throw (
        runWideError(err, { service: 'DynamoDB', action: 'DescribeTable' }) ??
        new LeaseError(
          `Cannot reach lease table ${this.options.tableName} (${errorName(err)}: ${messageOf(err)})`,
          'LEASE_TABLE_UNAVAILABLE',
          'Check DynamoDB permissions (DescribeTable, PutItem, DeleteItem) and the region.',
          'run',
          errorName(err),
        )
      );
    }
  }

  /** Takes the lease unless another holder's lease is still live; re-taking our own succeeds. */
  async acquire(key: string): Promise<LeaseResult> {
    const now = this.options.now().getTime();
    const expiresAt = now + this.options.leaseMs;
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.options.tableName,
          Item: {
            pk: { S: key },
            owner: { S: this.options.owner },
            expiresAt: { N: String(expiresAt) },
            // DynamoDB TTL works in epoch seconds; a day's margin keeps crash evidence readable
            // (and is far beyond CLOCK_SKEW_BOUND_MS: TTL never removes a live lease).
            ttl: { N: String(Math.ceil(expiresAt / 1000) + 86_400) },
            acquiredAt: { S: new Date(now).toISOString() },
          },
          // Our own item counts as free: a PutItem the SDK retried after it had committed finds
          // it, and must not report that "another run" holds the lease. Another's lapses only
          // CLOCK_SKEW_BOUND_MS after its holder's own expiry: our clock may be ahead of theirs.
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :lapsed OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':lapsed': { N: String(now - CLOCK_SKEW_BOUND_MS) },
            ':owner': { S: this.options.owner },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { acquired: true, expiresAt: new Date(expiresAt) };
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) {
        // When it lapses for us: a holder that crashed is waited out with the skew bound.
        const theirs = Number(err.Item?.expiresAt?.N ?? now - CLOCK_SKEW_BOUND_MS);
        return {
          acquired: false,
          owner: err.Item?.owner?.S ?? 'another run',
          expiresAt: new Date(theirs + CLOCK_SKEW_BOUND_MS),
        };
      }
      if (err instanceof ResourceNotFoundException) throw this.missing(err);
      throw (
        runWideError(err, { service: 'DynamoDB', action: 'PutItem' }) ??
        new LeaseError(
          `Could not take the lease ${key} (${errorName(err)})`,
          'LEASE_UNAVAILABLE',
          'Nothing was minted for this user; the next run retries.',
          'user',
          errorName(err),
        )
      );
    }
  }

  /** The catch-up note, read strongly: the run before this one has just written it. */
  async readCatchUp(): Promise<CatchUpState | undefined> {
    const got = await this.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: { pk: { S: CATCH_UP_KEY } },
        ConsistentRead: true,
      }),
    );
    const runs = Number(got.Item?.runs?.N);
    const since = got.Item?.since?.S;
    return Number.isInteger(runs) && since ? { runs, since } : undefined;
  }

  async writeCatchUp(state: CatchUpState | undefined): Promise<void> {
    const { tableName } = this.options;
    if (!state) {
      await this.client.send(
        new DeleteItemCommand({ TableName: tableName, Key: { pk: { S: CATCH_UP_KEY } } }),
      );
      return;
    }
    const now = this.options.now().getTime();
    await this.client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: {
          pk: { S: CATCH_UP_KEY },
          runs: { N: String(state.runs) },
          since: { S: state.since },
          owner: { S: this.options.owner },
          ttl: { N: String(Math.ceil(now / 1000) + CATCH_UP_TTL_SECONDS) },
        },
      }),
    );
  }

  /** Releases our own lease; a lease another run took over after ours lapsed stays. */
  async release(key: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.options.tableName,
          Key: { pk: { S: key } },
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': { S: this.options.owner } },
        }),
      );
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return;
      throw err;
    }
  }
}
