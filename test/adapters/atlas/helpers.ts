import { MockAgent } from 'undici';
import { AtlasClient } from '../../../functions/adapters/atlas/client.js';
import type { AtlasClientOptions } from '../../../functions/adapters/atlas/client-options.js';
import type { Log } from '../../../functions/domain/log.js';

export const ORIGIN = 'https://cloud.mongodb.com';
/** The project id in the recorded fixtures. */
export const GROUP = 'b0123456789abcdef012345b';
export const MEDIA_TYPE = 'application/vnd.atlas.2023-01-01+json';
export const certsPath = (user = 'user389', query = 'itemsPerPage=500&pageNum=1'): string =>
  `/api/atlas/v2/groups/${GROUP}/databaseUsers/${encodeURIComponent(user)}/certs${query ? `?${query}` : ''}`;

export const SA = {
  kind: 'serviceAccount',
  clientId: 'mdb_sa_id_0123456789abcdef01234567',
  clientSecret: 'mdb_sa_sk_SECRETclientSECRETvalue0123456789',
} as const;
export const API_KEY = {
  kind: 'apiKey',
  publicApiKey: 'pubkeyab',
  privateApiKey: 'PRIVATE-api-key-0000-1111-2222-333344445555',
} as const;
export const TOKEN = 'eyJTOKENvalue.for.tests.only';

export { loadRecorded, type Recorded } from '../../support/recorded.js';

/** A MockAgent that refuses real network access. */
export const mockAtlas = (): { agent: MockAgent; pool: ReturnType<MockAgent['get']> } => {
  const agent = new MockAgent();
  agent.disableNetConnect();
  return { agent, pool: agent.get(ORIGIN) };
};

/** Retries fast enough for unit tests. */
export const FAST_RETRY = { maxRetries: 3, minTimeoutMs: 1, maxTimeoutMs: 5 };

export const clientWith = (
  agent: MockAgent,
  overrides: Partial<AtlasClientOptions> = {},
): AtlasClient =>
  new AtlasClient({
    baseUrl: ORIGIN,
    credentials: API_KEY,
    dispatcher: agent,
    retry: FAST_RETRY,
    ...overrides,
  });

/** A Bearer client whose token endpoint answers once with {@link TOKEN}. */
export const bearerClient = (
  agent: MockAgent,
  overrides: Partial<AtlasClientOptions> = {},
): AtlasClient => {
  agent
    .get(ORIGIN)
    .intercept({ path: '/api/oauth/token', method: 'POST' })
    .reply(200, { access_token: TOKEN, token_type: 'Bearer', expires_in: 3600 });
  return clientWith(agent, { credentials: SA, ...overrides });
};

export const apiError = (status: number, errorCode: string, detail = 'detail') => ({
  error: status,
  errorCode,
  detail,
  parameters: [],
  reason: 'Reason',
});

export const JSON_HEADERS = { 'content-type': 'application/json' };

/** Captures every log call, to search it for secrets. */
export const capturingLog = (): { log: Log; lines: string[] } => {
  const lines: string[] = [];
  const record =
    (level: string) =>
    (...args: unknown[]): void => {
      lines.push(`${level} ${JSON.stringify(args)}`);
    };
  const log = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  } as unknown as Log;
  return { log, lines };
};

/** Awaits a promise that must reject, and returns the error. */
export const rejectionOf = async (promise: Promise<unknown>): Promise<Error> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-Error: ${String(error)}`);
  }
  throw new Error('expected a rejection');
};
