import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { AtlasClient } from '../../../functions/adapters/atlas/client.js';
import {
  AtlasCreateOutcomeUnknownError,
  AtlasUnreachableError,
} from '../../../functions/adapters/atlas/errors.js';
import { isTransient, unreachableCode } from '../../../functions/adapters/atlas/http.js';
import { freePort } from '../../../tools/aws/moto.js';
import { FAST_RETRY, GROUP, loadRecorded, rejectionOf, SA } from './helpers.js';

/**
 * Real sockets on loopback: what undici reports for resets, stalls and refused connections is
 * what the client classifies, not a hand-made error object.
 */
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const TOKEN = JSON.stringify({ access_token: 'tok', token_type: 'Bearer', expires_in: 3600 });

const servers: Server[] = [];
const agents: Agent[] = [];

const serve = async (handler: Handler): Promise<{ baseUrl: string; posts: () => number }> => {
  let posts = 0;
  const server = createServer((req, res) => {
    if (req.url === '/api/oauth/token') {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json' }).end(TOKEN);
      return;
    }
    if (req.method === 'POST') posts += 1;
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}`, posts: () => posts };
};

const clientFor = (baseUrl: string, requestTimeoutMs = 2000): AtlasClient => {
  const agent = new Agent();
  agents.push(agent);
  return new AtlasClient({
    baseUrl,
    credentials: SA,
    dispatcher: agent,
    retry: FAST_RETRY,
    requestTimeoutMs,
  });
};

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await Promise.all(agents.splice(0).map((agent) => agent.close()));
});

describe('AtlasClient over real sockets', () => {
  it('returns the recorded PEM body verbatim', async () => {
    const create = loadRecorded('create-cert.http');
    const { baseUrl } = await serve((req, res) => {
      req.resume();
      res.writeHead(201, { 'content-type': create.headers['content-type'] }).end(create.body);
    });

    await expect(clientFor(baseUrl).createCertificate(GROUP, 'user389', 3)).resolves.toBe(
      create.body,
    );
  });

  it('does not repeat a create whose connection is reset after sending', async () => {
    const { baseUrl, posts } = await serve((req) => {
      req.resume();
      req.on('end', () => req.socket.destroy());
    });
    const client = clientFor(baseUrl);

    const error = await rejectionOf(client.createCertificate(GROUP, 'user389', 3));

    expect(error).toBeInstanceOf(AtlasCreateOutcomeUnknownError);
    expect(error.message).toContain('(UND_ERR_SOCKET after sending)');
    expect(posts()).toBe(1);
  });

  it('does not repeat a create that timed out waiting for the response', async () => {
    const { baseUrl, posts } = await serve((req) => req.resume());
    const client = clientFor(baseUrl, 100);

    const error = await rejectionOf(client.createCertificate(GROUP, 'user389', 3));

    expect(error).toBeInstanceOf(AtlasCreateOutcomeUnknownError);
    expect(error.message).toMatch(/\((ETIMEDOUT|UND_ERR_HEADERS_TIMEOUT) after sending\)/);
    expect(posts()).toBe(1);
  });

  it('retries a GET after a reset and succeeds', async () => {
    let calls = 0;
    const { baseUrl } = await serve((req, res) => {
      calls += 1;
      if (calls === 1) {
        req.socket.destroy();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"results":[]}');
    });

    await expect(clientFor(baseUrl).listCertificates(GROUP, 'user389')).resolves.toEqual([]);
    expect(calls).toBe(2);
  });

  it('a refused connection ends at once, naming host:port and ECONNREFUSED (#24.6)', async () => {
    const port = await freePort(); // nothing listens there
    const client = clientFor(`http://127.0.0.1:${port}`);
    // Skip the token endpoint, which is on the same dead port, by using an API key.
    const apiKeyClient = new AtlasClient({
      baseUrl: `http://127.0.0.1:${port}`,
      credentials: { kind: 'apiKey', publicApiKey: 'p', privateApiKey: 'k' },
      dispatcher: agents[0],
      retry: FAST_RETRY,
    });

    const create = await rejectionOf(apiKeyClient.createCertificate(GROUP, 'user389', 3));
    const token = await rejectionOf(client.listCertificates(GROUP, 'user389'));

    // Before: retried 4 times each (33–35 s with the default backoff), then "no token after
    // 5 attempts" naming neither the host nor the cause.
    for (const error of [create, token]) {
      expect(error).toBeInstanceOf(AtlasUnreachableError);
      expect(error).toMatchObject({ code: 'ATLAS_UNREACHABLE', scope: 'run' });
      expect(error.message).toContain(`Atlas at 127.0.0.1:${port} is unreachable: ECONNREFUSED`);
    }
    expect(token.message).toContain('POST /api/oauth/token');
    expect(apiKeyClient.stats.requests).toBe(1);
    expect(client.stats.tokenRequests).toBe(1);
  });

  it('a host name that does not resolve ends at once, naming it and ENOTFOUND', async () => {
    const client = clientFor('https://atlas.invalid');
    const started = Date.now();
    const error = await rejectionOf(client.listCertificates(GROUP, 'user389'));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(AtlasUnreachableError);
    expect(error.message).toMatch(
      /^Atlas at atlas\.invalid:443 is unreachable: ENOTFOUND \(host name not found\)/,
    );
    expect(client.stats.tokenRequests).toBe(1);
  });

  it('a transient DNS failure (EAI_AGAIN) and a reset keep their retries', async () => {
    expect(unreachableCode(Object.assign(new Error('x'), { code: 'EAI_AGAIN' }))).toBeUndefined();
    expect(unreachableCode(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBeUndefined();
    expect(isTransient(Object.assign(new Error('x'), { code: 'EAI_AGAIN' }))).toBe(true);
    const tls = new Error('certificate has expired', {
      cause: Object.assign(new Error('x'), { code: 'CERT_HAS_EXPIRED' }),
    });
    expect(unreachableCode(tls)).toBe('CERT_HAS_EXPIRED');
    expect(
      unreachableCode(Object.assign(new Error('x'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })),
    ).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });
});
