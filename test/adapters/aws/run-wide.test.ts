import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DescribeTableCommand,
  DynamoDBClient,
  DynamoDBServiceException,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeSecretCommand,
  ListSecretsCommand,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseTable } from '../../../functions/adapters/aws/lease-table.js';
import { type CallSite, runWideError } from '../../../functions/adapters/aws/run-wide.js';
import { SecretStore } from '../../../functions/adapters/aws/secret-store.js';
import { RotatorError } from '../../../functions/domain/errors.js';
import { STOPPED_REASON } from '../../../functions/domain/report.js';
import { runRotation } from '../../../functions/domain/rotation/index.js';
import { freePort } from '../../../tools/aws/moto.js';
import { P1 } from '../../support/fakes/fixtures.js';
import { fakeContext } from '../../support/world.js';

/**
 * Which AWS SDK failures stop the run, as the SDK (v3, smithy node-http-handler 4) throws them.
 * Two come off a real wire (a closed port, a server that is not AWS); the others are the shapes
 * the SDK gives, as observed through the real CLI (docs/troubleshooting.md).
 */

const LIST: CallSite = { service: 'Secrets Manager', action: 'ListSecrets', env: {} };
const named = (name: string, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { name, ...extra });
const service = (name: string, message: string, status = 400) =>
  new SecretsManagerServiceException({
    name,
    message,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, requestId: 'b7a1c3d2-0000-4000-8000-000000000001' },
  });
const DENIED =
  'User: arn:aws:iam::111122223333:user/ops is not authorized to perform: secretsmanager:ListSecrets because no identity-based policy allows the secretsmanager:ListSecrets action';

describe('runWideError: what stops the run', () => {
  it.each<[string, unknown, CallSite, string, RegExp]>([
    [
      'no region',
      new Error('Region is missing'),
      LIST,
      'AWS_REGION_MISSING',
      /^No AWS region for Secrets Manager ListSecrets \(AWS SDK: Region is missing\)$/,
    ],
    [
      'an empty AWS_REGION',
      new Error('Region not accepted: region="" is not a valid hostname component.'),
      { ...LIST, env: { AWS_REGION: '' } },
      'AWS_REGION_MISSING',
      /Region not accepted/,
    ],
    [
      'a region that is not one',
      new Error('Region not accepted: region="us east" is not a valid hostname component.'),
      { ...LIST, env: { AWS_REGION: 'us east' } },
      'AWS_REGION_INVALID',
      /^AWS_REGION=us east is not a region/,
    ],
    [
      'no credentials',
      named('CredentialsProviderError', 'Could not load credentials from any providers'),
      LIST,
      'AWS_CREDENTIALS_MISSING',
      /^No AWS credentials for Secrets Manager ListSecrets \(AWS SDK: Could not load credentials from any providers\)$/,
    ],
    [
      'an unknown access key',
      service(
        'UnrecognizedClientException',
        'The security token included in the request is invalid.',
      ),
      LIST,
      'AWS_CREDENTIALS_INVALID',
      /^Secrets Manager rejected the AWS credentials on ListSecrets \(UnrecognizedClientException: The security token/,
    ],
    [
      'an expired session',
      service('ExpiredTokenException', 'The security token included in the request is expired'),
      { service: 'DynamoDB', action: 'DescribeTable', env: {} },
      'AWS_CREDENTIALS_INVALID',
      /^DynamoDB rejected the AWS credentials on DescribeTable/,
    ],
    [
      'no such host (the region endpoint)',
      named('Error', 'getaddrinfo ENOTFOUND secretsmanager.us-east-9.amazonaws.com', {
        code: 'ENOTFOUND',
        syscall: 'getaddrinfo',
      }),
      { ...LIST, env: { AWS_REGION: 'us-east-9' } },
      'AWS_ENDPOINT_UNREACHABLE',
      /^Cannot connect to the Secrets Manager endpoint of region us-east-9 for ListSecrets \(getaddrinfo ENOTFOUND/,
    ],
    [
      'both addresses of localhost refused (AggregateError)',
      Object.assign(
        new AggregateError(
          [
            named('Error', 'connect ECONNREFUSED ::1:4566', { code: 'ECONNREFUSED' }),
            named('Error', 'connect ECONNREFUSED 127.0.0.1:4566', { code: 'ECONNREFUSED' }),
          ],
          '',
        ),
        { code: 'ECONNREFUSED' },
      ),
      { ...LIST, env: { AWS_ENDPOINT_URL: 'http://localhost:4566' } },
      'AWS_ENDPOINT_UNREACHABLE',
      /^Cannot connect to http:\/\/localhost:4566 \(AWS_ENDPOINT_URL\) for ListSecrets \(connect ECONNREFUSED ::1:4566; connect ECONNREFUSED 127\.0\.0\.1:4566\)$/,
    ],
    [
      'the SDK’s connect timeout',
      named(
        'TimeoutError',
        '@smithy/node-http-handler - the request socket did not establish a connection with the server within the configured timeout of 3000 ms.',
      ),
      LIST,
      'AWS_ENDPOINT_UNREACHABLE',
      /did not establish a connection/,
    ],
    [
      'the OS giving up on the connect',
      named('TimeoutError', 'connect ETIMEDOUT 10.0.0.1:443', {
        code: 'ETIMEDOUT',
        syscall: 'connect',
      }),
      LIST,
      'AWS_ENDPOINT_UNREACHABLE',
      /connect ETIMEDOUT/,
    ],
    [
      'ListSecrets denied',
      service('AccessDeniedException', DENIED),
      LIST,
      'SECRETS_ACCESS_DENIED',
      /^Secrets Manager denied ListSecrets \(User: arn:aws:iam::111122223333:user\/ops is not authorized/,
    ],
  ])('%s', (_label, err, call, code, message) => {
    const wide = runWideError(err, call);
    expect(wide).toBeInstanceOf(RotatorError);
    expect(wide).toMatchObject({ code, scope: 'run' });
    expect(wide?.message).toMatch(message);
    expect(wide?.remedy.length).toBeGreaterThan(20);
  });

  it.each<[string, unknown, CallSite]>([
    ['throttling', service('ThrottlingException', 'Rate exceeded'), LIST],
    ['a 5xx', service('InternalServiceError', 'internal error', 500), LIST],
    [
      'a request timeout (a slow answer, not a dead endpoint)',
      named(
        'TimeoutError',
        '@smithy/node-http-handler - [ERROR] a request has exceeded the configured 10000 ms requestTimeout.',
        { code: 'ETIMEDOUT' },
      ),
      LIST,
    ],
    ['a reset connection', named('Error', 'socket hang up', { code: 'ECONNRESET' }), LIST],
    [
      'one secret denied',
      service('AccessDeniedException', DENIED),
      { ...LIST, action: 'DescribeSecret' },
    ],
    [
      'a denied lease table',
      service('AccessDeniedException', DENIED),
      { service: 'DynamoDB', action: 'DescribeTable', env: {} },
    ],
    [
      'a user-scoped RotatorError',
      new RotatorError('x', { code: 'SECRET_STORE_FAILED', remedy: 'y' }),
      LIST,
    ],
    ['a thrown string', 'Region is missing', LIST],
  ])('leaves %s to its call', (_label, err, call) => {
    expect(runWideError(err, call)).toBeUndefined();
  });

  it('passes a run-scoped RotatorError through as it is (mapping twice is safe)', () => {
    const first = runWideError(new Error('Region is missing'), LIST);
    expect(runWideError(first, { service: 'DynamoDB', action: 'PutItem' })).toBe(first);
  });

  it('names the variable to fix, and tells AWS_DEFAULT_REGION is not read', () => {
    const region = runWideError(new Error('Region is missing'), {
      ...LIST,
      env: { AWS_DEFAULT_REGION: 'eu-west-1' },
    });
    expect(region?.remedy).toMatch(/^Set AWS_REGION .*AWS_DEFAULT_REGION is set, but/);
    const refused = runWideError(
      named('Error', 'connect ECONNREFUSED 127.0.0.1:5001', { code: 'ECONNREFUSED' }),
      { ...LIST, env: { AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:5001' } },
    );
    expect(refused?.remedy).toMatch(
      /^Check that AWS_ENDPOINT_URL_SECRETS_MANAGER is the address .* and that the server is running/,
    );
  });

  it('never prints a password an endpoint URL carries', () => {
    const wide = runWideError(
      named('Error', 'connect ECONNREFUSED 127.0.0.1:1', { code: 'ECONNREFUSED' }),
      { ...LIST, env: { AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://ops:hunter2@127.0.0.1:1' } },
    );
    expect(wide?.message).toContain('http://127.0.0.1:1 (AWS_ENDPOINT_URL_SECRETS_MANAGER)');
    expect(JSON.stringify([wide?.message, wide?.remedy])).not.toContain('hunter2');
  });
});

describe('runWideError: off a real wire', () => {
  let notAws: Server;
  let notAwsUrl = '';
  beforeAll(async () => {
    // What answers on a wrong port: some other HTTP server (here, like the Atlas simulator).
    notAws = createServer((_req, res) =>
      res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>'),
    );
    await new Promise<void>((resolve) => notAws.listen(0, '127.0.0.1', resolve));
    notAwsUrl = `http://127.0.0.1:${(notAws.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => notAws.close(() => resolve())));

  const listOn = async (endpoint: string): Promise<unknown> =>
    new SecretsManagerClient({
      endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 1,
    })
      .send(new ListSecretsCommand({}))
      .then(
        () => undefined,
        (err: unknown) => err,
      );

  it('an answer without an AWS request id is not the service, whatever its status', () => {
    const meta = (httpStatusCode: number, requestId?: string) => ({
      $metadata: { httpStatusCode, requestId },
    });
    const code = (err: unknown) => runWideError(err, LIST)?.code;
    expect(code(named('Unknown', 'UnknownError', meta(404)))).toBe('AWS_ENDPOINT_WRONG');
    expect(code(named('SyntaxError', 'Unexpected token', meta(200)))).toBe('AWS_ENDPOINT_WRONG');
    // A proxy's passing 502 or 429, or anything AWS itself answered, is not.
    expect(code(named('SyntaxError', 'Unexpected token', meta(502)))).toBeUndefined();
    expect(code(named('Unknown', 'UnknownError', meta(429)))).toBeUndefined();
    expect(code(named('Unknown', 'UnknownError', meta(404, 'r-1')))).toBeUndefined();
  });

  it('a closed port is an unreachable endpoint', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const wide = runWideError(await listOn(endpoint), {
      ...LIST,
      env: { AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint },
    });
    expect(wide).toMatchObject({ code: 'AWS_ENDPOINT_UNREACHABLE', scope: 'run' });
    expect(wide?.message).toBe(
      `Cannot connect to ${endpoint} (AWS_ENDPOINT_URL_SECRETS_MANAGER) for ListSecrets (connect ECONNREFUSED ${endpoint.slice(7)})`,
    );
  });

  it('a server that is not Secrets Manager is the wrong endpoint, not "UnknownError"', async () => {
    const err = await listOn(notAwsUrl);
    // The SDK's own words: it cannot read HTML as JSON.
    expect(err).toMatchObject({ name: 'SyntaxError' });
    const wide = runWideError(err, { ...LIST, env: { AWS_ENDPOINT_URL: notAwsUrl } });
    expect(wide).toMatchObject({ code: 'AWS_ENDPOINT_WRONG', scope: 'run' });
    expect(wide?.message).toBe(
      `${notAwsUrl} (AWS_ENDPOINT_URL) answered ListSecrets with HTTP 404 and no AWS request id: it is not Secrets Manager`,
    );
  });
});

describe('adapters map run-wide causes before their own', () => {
  const client = new SecretsManagerClient({ region: 'us-east-1' });
  const sm = mockClient(client);
  afterAll(() => sm.restore());

  it('a denied first ListSecrets stops the run; a denied secret stays its user’s', async () => {
    sm.reset();
    sm.on(ListSecretsCommand).rejects(service('AccessDeniedException', DENIED));
    sm.on(DescribeSecretCommand).rejects(service('AccessDeniedException', 'denied'));
    const store = new SecretStore(client);
    await expect(store.index('atlas-x509/')).rejects.toMatchObject({
      code: 'SECRETS_ACCESS_DENIED',
      scope: 'run',
    });
    await expect(
      store.read('atlas-x509/p/app1', { projectId: 'p', username: 'app1' }),
    ).rejects.toMatchObject({
      code: 'SECRET_ACCESS_DENIED',
      scope: 'user',
    });
  });

  it('a run whose ListSecrets is denied stops with one error, reading no secret', async () => {
    sm.reset();
    sm.on(ListSecretsCommand).rejects(service('AccessDeniedException', DENIED));
    // No certificate is minted in this run: the test CA is never used.
    const ctx = fakeContext({
      pki: { keys: [] },
      config: { projects: [{ projectId: P1, users: ['app1', 'app2'] }] },
    });
    const report = await runRotation(
      { ...ctx, store: new SecretStore(client) },
      { dryRun: false, force: false },
    );
    expect(report.error).toMatchObject({ code: 'SECRETS_ACCESS_DENIED' });
    expect(report.error?.message).toContain(DENIED);
    expect(report.users.map((u) => [u.action, u.reason, u.remedy])).toEqual([
      ['failed', STOPPED_REASON, undefined],
      ['failed', STOPPED_REASON, undefined],
    ]);
    expect(sm.commandCalls(ListSecretsCommand)).toHaveLength(1);
    expect(sm.commandCalls(DescribeSecretCommand)).toHaveLength(0);
    expect(ctx.atlas.calls.count('listCertificates')).toBe(0);
  });

  it('the lease table check says the credentials were rejected, not that the table is unreachable', async () => {
    const ddbClient = new DynamoDBClient({ region: 'us-east-1' });
    const ddb = mockClient(ddbClient);
    try {
      ddb.on(DescribeTableCommand).rejects(
        new DynamoDBServiceException({
          name: 'UnrecognizedClientException',
          message: 'The security token included in the request is invalid.',
          $fault: 'client',
          $metadata: { httpStatusCode: 400, requestId: 'r-2' },
        }),
      );
      const leases = new LeaseTable(ddbClient, {
        tableName: 'locks',
        leaseMs: 900_000,
        owner: 'run-1',
        now: () => new Date(),
      });
      await expect(leases.check()).rejects.toMatchObject({
        code: 'AWS_CREDENTIALS_INVALID',
        scope: 'run',
      });
    } finally {
      ddb.restore();
    }
  });
});
