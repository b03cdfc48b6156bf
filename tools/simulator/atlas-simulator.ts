/**
 * An embedded MongoDB Atlas Admin API v2 simulator: a real HTTP server on loopback that speaks
 * the X.509 certificate endpoints, OAuth client credentials and HTTP Digest exactly as the API
 * reference and the recorded traffic describe, mints real certificates, and can be told to
 * misbehave (rate limits, latency, scripted faults) for tests, the demo and the benchmark.
 *
 * Everything time-dependent (token and nonce expiry, validity windows, the list filter, list lag,
 * the token bucket) reads the injected `now()`, so tests can move time without waiting. Latency
 * and hangs use real timers.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimulatorAuth } from './auth.js';
import { type CreateMangle, type Fault, type FaultAction, FaultQueue } from './faults.js';
import {
  type AtlasSimulatorOptions,
  type CertRecord,
  type CertSpec,
  type DatabaseName,
  type DbUser,
  DEFAULT_BEHAVIOUR,
  type Delivery,
  type LatencyOptions,
  type Project,
  type RecordedCertificate,
  type RecordedRequest,
  type RequestContext,
  type SeedCertificateOptions,
  type SimulatorBehaviour,
  type SimulatorExchange,
  type SimulatorStats,
  type X509Type,
} from './model.js';
import {
  addCalendarMonths,
  createProjectCa,
  generateRsaKeyPair,
  type MintedCertificate,
  mintCertificate,
  type ProjectCa,
  privateKeyPem,
  type RsaKeyPair,
  randomSerial,
  subjectFor,
  truncateToSeconds,
} from './pki.js';
import {
  publishedRefill,
  type RateLimitOptions,
  type TakeResult,
  TokenBuckets,
  UnlimitedCounter,
} from './rate-limit.js';
import {
  ApiFailure,
  ATLAS_MEDIA_TYPE,
  apiError,
  atlasResponse,
  paginatedBody,
  parsePageRequest,
  type SimResponse,
} from './responses.js';
import {
  acceptsVersion,
  CreateCertBody,
  certJson,
  certKey,
  DAY_MS,
  fail,
  GROUP_ID,
  HOUR_MS,
  RATE_LIMITS_MEDIA_TYPE,
  REVOKE_PATH,
  readBody,
  resourceNotFound,
  SERVICE_ACCOUNT_MEDIA_TYPE,
  safeDecode,
  TOKEN_PATH,
  userJson,
  V2_PREFIX,
} from './wire.js';

export type { CreateMangle, Fault, FaultAction, FaultType } from './faults.js';
export type {
  ApiKey,
  AtlasSimulatorOptions,
  AuthMethod,
  DatabaseName,
  LatencyOptions,
  MissingUserErrorCode,
  RecordedCertificate,
  RecordedRequest,
  SeedCertificateOptions,
  ServiceAccount,
  SimulatorBehaviour,
  SimulatorExchange,
  SimulatorStats,
  UnknownGroupResponse,
  X509Type,
} from './model.js';
export { DEFAULT_BEHAVIOUR } from './model.js';
export type { MintedCertificate } from './pki.js';
export type { RateLimitOptions } from './rate-limit.js';

export class AtlasSimulator {
  /** Contract checks (test/contract/setup.ts): sees each delivered answer with its request. */
  static onExchange: ((exchange: SimulatorExchange) => void) | undefined;
  /** Runtime switches; mutate freely between requests. */
  readonly behaviour: SimulatorBehaviour;
  readonly stats: SimulatorStats = {
    tokensIssued: 0,
    digestChallenges: 0,
    rateLimited: 0,
    certificatesMinted: 0,
    customerX509Disabled: 0,
  };
  /** Every request in arrival order; see `RecordedRequest`. */
  readonly requests: RecordedRequest[] = [];
  /** Per-category latency added before responding; mutable. */
  latencyMs: LatencyOptions;

  readonly #now: () => Date;
  readonly #keyBits: number;
  readonly #server: Server;
  readonly #projects = new Map<string, Project>();
  readonly #certs = new Map<string, CertRecord[]>();
  readonly #mintsInFlight = new Map<string, number>();
  readonly #issuedSerials = new Set<bigint>();
  readonly #serviceAccountExpiry = new Map<string, Date>();
  readonly #auth: SimulatorAuth;
  readonly #faults = new FaultQueue();
  readonly #hanging = new Map<Socket, NodeJS.Timeout | undefined>();
  readonly #unlimited = new UnlimitedCounter();
  #buckets: TokenBuckets | undefined;
  #keyPool: RsaKeyPair[] = [];
  #sharedCaKeys: Promise<RsaKeyPair> | undefined;
  #nextPoolKey = 0;
  #baseUrl = '';

  private constructor(options: AtlasSimulatorOptions) {
    this.#now = options.now ?? (() => new Date());
    this.#keyBits = options.keyBits ?? 2048;
    this.behaviour = { ...DEFAULT_BEHAVIOUR, ...options.behaviour };
    this.#auth = new SimulatorAuth(() => this.#nowMs(), this.behaviour, this.stats);
    this.latencyMs = { ...options.latencyMs };
    this.setRateLimit(options.rateLimit);
    for (const account of options.serviceAccounts ?? []) {
      this.addServiceAccount(account.clientId, account.clientSecret);
    }
    for (const key of options.apiKeys ?? []) this.addApiKey(key.publicKey, key.privateKey);
    this.#server = createServer((req, res) => {
      void this.#handle(req, res);
    });
  }

  /** Generates the key pool (if any), listens, and returns the running simulator. */
  static async start(options: AtlasSimulatorOptions = {}): Promise<AtlasSimulator> {
    const simulator = new AtlasSimulator(options);
    const poolSize = options.keyPool ?? 0;
    simulator.#keyPool = options.keys
      ? [...options.keys]
      : await Promise.all(
          Array.from({ length: poolSize }, () => generateRsaKeyPair(simulator.#keyBits)),
        );
    if (simulator.#keyPool.length > 0) await simulator.#caKeys();
    await simulator.#listen(options.host ?? '127.0.0.1', options.port ?? 0);
    return simulator;
  }

  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  get baseUrl(): string {
    return this.#baseUrl;
  }

  /** Stops listening and drops every open connection, including hanging ones. */
  async close(): Promise<void> {
    for (const [socket, timer] of this.#hanging) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.#hanging.clear();
    const closed = new Promise<void>((resolve, reject) =>
      this.#server.close((err) => (err ? reject(err) : resolve())),
    );
    this.#server.closeAllConnections();
    await closed;
  }

  // --- Admin API -------------------------------------------------------------------------------

  /** Adds a project (or updates its customer CA). Its signing CA is generated in the background. */
  addProject(groupId: string, opts: { customerCaPem?: string } = {}): void {
    if (!GROUP_ID.test(groupId)) throw new RangeError(`not a 24-hex project id: ${groupId}`);
    const existing = this.#projects.get(groupId);
    if (existing) {
      if ('customerCaPem' in opts) existing.customerCaPem = opts.customerCaPem;
      return;
    }
    const project: Project = {
      groupId,
      customerCaPem: opts.customerCaPem,
      users: new Map(),
      ca: undefined,
    };
    this.#projects.set(groupId, project);
    // Start the CA key now so the first create does not pay for it; errors surface on use.
    this.#caFor(project).catch(() => undefined);
  }

  /** Configures (PEM) or clears (undefined) the project's customer CA ("advanced X.509"). */
  setCustomerCa(groupId: string, pem: string | undefined): void {
    this.#project(groupId).customerCaPem = pem;
  }

  addUser(
    groupId: string,
    username: string,
    opts: { x509Type?: X509Type; databaseName?: DatabaseName } = {},
  ): void {
    this.#project(groupId).users.set(username, {
      username,
      x509Type: opts.x509Type ?? 'MANAGED',
      databaseName: opts.databaseName ?? '$external',
    });
  }

  /** Deletes the user; its certificates stay (keyed by project+username, like Atlas). */
  removeUser(groupId: string, username: string): void {
    this.#project(groupId).users.delete(username);
  }

  /** A service account; its one secret expires at `secretExpiresAt` (default in 90 days). */
  addServiceAccount(
    clientId: string,
    clientSecret: string,
    opts: { secretExpiresAt?: Date } = {},
  ): void {
    this.#auth.serviceAccounts.set(clientId, clientSecret);
    this.#serviceAccountExpiry.set(
      clientId,
      opts.secretExpiresAt ?? new Date(this.#nowMs() + 90 * 24 * HOUR_MS),
    );
  }

  /** `GET /orgs/{orgId}/serviceAccounts/{clientId}`: the secret's expiry and masked value. */
  #getServiceAccount(clientId: string): SimResponse {
    const secret = this.#auth.serviceAccounts.get(clientId);
    const expiresAt = this.#serviceAccountExpiry.get(clientId);
    if (secret === undefined || expiresAt === undefined) {
      throw new ApiFailure(
        apiError(404, 'SERVICE_ACCOUNT_NOT_FOUND', `Service account ${clientId} not found.`, [
          clientId,
        ]),
      );
    }
    const body = {
      clientId,
      name: clientId,
      roles: ['ORG_MEMBER'],
      secrets: [
        {
          id: createHash('sha256').update(clientId).digest('hex').slice(0, 24),
          createdAt: new Date(expiresAt.getTime() - 365 * 24 * HOUR_MS).toISOString(),
          expiresAt: expiresAt.toISOString(),
          maskedSecretValue: `mdb_sa_sk_...${secret.slice(-4)}`,
        },
      ],
    };
    return {
      status: 200,
      headers: { 'Content-Type': `${SERVICE_ACCOUNT_MEDIA_TYPE};charset=utf-8` },
      body: JSON.stringify(body),
    };
  }

  addApiKey(publicKey: string, privateKey: string): void {
    this.#auth.apiKeys.set(publicKey, privateKey);
  }

  revokeAllTokens(): void {
    this.#auth.tokens.clear();
  }

  /** The pre-generated keys certificates are signed with: to share them with another simulator. */
  get keyPoolKeys(): readonly RsaKeyPair[] {
    return this.#keyPool;
  }

  /** Every access token issued so far: for leak scans in tests, nothing else. */
  get issuedTokens(): readonly string[] {
    return this.#auth.everIssued;
  }

  /** Replaces (or removes, with undefined) the token buckets; they start full. */
  setRateLimit(options: RateLimitOptions | undefined): void {
    this.#buckets = options ? new TokenBuckets(options, () => this.#nowMs()) : undefined;
  }

  injectFault(fault: Fault): void {
    this.#faults.add(fault);
  }

  clearFaults(): void {
    this.#faults.clear();
  }

  /** Faults with uses left. */
  get pendingFaults(): number {
    return this.#faults.pending;
  }

  /**
   * Mints and records a certificate exactly as a POST would (it shows up in the list), for seeding
   * tests, e.g. with one that expires soon. The project must exist; the user need not.
   */
  async mintCertificate(
    groupId: string,
    username: string,
    opts: SeedCertificateOptions = {},
  ): Promise<MintedCertificate> {
    const project = this.#project(groupId);
    const start = truncateToSeconds(this.#now());
    const spec: CertSpec = {
      commonName: username,
      notBefore: opts.notBefore ?? new Date(start.getTime() - HOUR_MS),
      notAfter: opts.notAfter ?? addCalendarMonths(start, opts.months ?? 3),
    };
    const { minted } = await this.#mintAndRecord(project, username, spec, start);
    return minted;
  }

  /** All recorded certificates of project+username, expired ones included, oldest first. */
  certificates(groupId: string, username: string): RecordedCertificate[] {
    return this.#recordsOf(groupId, username).map((cert) => ({
      serialNumber: cert.serial.toString(10),
      createdAt: cert.notBefore,
      notAfter: cert.notAfter,
      subject: cert.subject,
      mintedAt: cert.mintedAt,
    }));
  }

  /** PEM of the project's signing CA, for chain checks. */
  async projectCaPem(groupId: string): Promise<string> {
    return (await this.#caFor(this.#project(groupId))).certificatePem;
  }

  resetRequests(): void {
    this.requests.length = 0;
  }

  /** Recorded requests with this method (case-insensitive) whose path contains the substring. */
  count(method: string, pathSubstring = ''): number {
    const wanted = method.toUpperCase();
    return this.requests.filter(
      (r) =>
        r.method === wanted &&
        (r.path.includes(pathSubstring) || safeDecode(r.path)?.includes(pathSubstring)),
    ).length;
  }

  // --- Plumbing --------------------------------------------------------------------------------

  #nowMs(): number {
    return this.#now().getTime();
  }

  async #listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    this.#baseUrl = `http://${host}:${address.port}`;
  }

  #project(groupId: string): Project {
    const project = this.#projects.get(groupId);
    if (!project) throw new Error(`the simulator has no project ${groupId}; call addProject first`);
    return project;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const queryStart = rawUrl.indexOf('?');
    const rawPath = queryStart === -1 ? rawUrl : rawUrl.slice(0, queryStart);
    const query = new URLSearchParams(queryStart === -1 ? '' : rawUrl.slice(queryStart + 1));
    const entry: RecordedRequest = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: rawPath,
      query: Object.fromEntries(query),
      status: 0,
      auth: 'none',
    };
    this.requests.push(entry);
    let delivery: Delivery;
    let requestBody: Buffer = Buffer.alloc(0); // kept for the contract checks (onExchange)
    try {
      requestBody = await readBody(req);
      const ctx: RequestContext = {
        method: entry.method,
        rawUrl,
        rawPath,
        decodedPath: safeDecode(rawPath) ?? rawPath,
        query,
        headers: req.headers,
        body: requestBody,
        entry,
      };
      delivery = await this.#process(ctx);
    } catch (err) {
      const response =
        err instanceof ApiFailure
          ? err.response
          : apiError(500, 'UNEXPECTED_ERROR', 'Unexpected error.', []);
      delivery = { kind: 'respond', response };
    }
    if (delivery.kind === 'respond') {
      const { method, fault } = entry;
      const exchange = { method, url: rawUrl, headers: req.headers, body: requestBody, fault };
      AtlasSimulator.onExchange?.({ ...exchange, response: delivery.response });
    }
    try {
      await this.#deliver(req, res, entry, delivery);
    } catch {
      // Only a malformed injected `raw` response (e.g. an invalid header) can get here; the
      // client sees the connection drop, which is the closest honest rendering of it.
      req.socket.destroy();
    }
  }

  /** Authenticate, then consult the faults, then do the work. */
  async #process(ctx: RequestContext): Promise<Delivery> {
    if (!ctx.rawPath.startsWith('/api/')) {
      return { kind: 'respond', response: resourceNotFound(ctx.rawPath) };
    }
    const isOAuth = ctx.rawPath === TOKEN_PATH || ctx.rawPath === REVOKE_PATH;
    const auth = isOAuth ? this.#auth.authenticateClient(ctx) : this.#auth.authenticateApi(ctx);
    if (!auth.ok) return { kind: 'respond', response: auth.response };
    ctx.entry.auth = auth.method;
    if (auth.clientId !== undefined) ctx.entry.clientId = auth.clientId;

    // Faults match only authenticated requests: a Digest client's unauthenticated first request
    // (answered with a challenge) must not use up a fault meant for the real call.
    const action = this.#faults.take({
      method: ctx.method,
      rawPath: ctx.rawPath,
      decodedPath: ctx.decodedPath,
      isCreate: ctx.method === 'POST' && /\/databaseUsers\/[^/]+\/certs$/.test(ctx.rawPath),
    });
    if (action) ctx.entry.fault = action.type;
    const early = action && this.#faultBeforeProcessing(action);
    if (early) return early;

    const mangle = action?.type === 'mangleCreate' ? action.mangle : undefined;
    const processed = isOAuth
      ? this.#auth.handleOAuth(ctx, auth.clientId ?? '')
      : await this.#handleApi(ctx, mangle);
    if (action?.type === 'resetAfterProcessing') return { kind: 'reset', processed };
    if (action?.type === 'hangAfterProcessing') return { kind: 'hang', ms: action.ms, processed };
    return { kind: 'respond', response: processed };
  }

  /** Faults that replace processing entirely; undefined for those that act after it. */
  #faultBeforeProcessing(action: FaultAction): Delivery | undefined {
    switch (action.type) {
      case 'error': {
        const headers: Record<string, string> =
          action.retryAfter === undefined ? {} : { 'Retry-After': String(action.retryAfter) };
        const detail = action.detail ?? `Injected ${action.errorCode}.`;
        return {
          kind: 'respond',
          response: apiError(action.status, action.errorCode, detail, [], headers),
        };
      }
      case 'raw':
        return {
          kind: 'respond',
          response: {
            status: action.status,
            headers: {
              ...(action.contentType ? { 'Content-Type': action.contentType } : {}),
              ...action.headers,
            },
            body: action.body,
          },
        };
      case 'reset':
        return { kind: 'reset' };
      case 'hang':
        return { kind: 'hang', ms: action.ms };
      default:
        return undefined;
    }
  }

  async #deliver(
    req: IncomingMessage,
    res: ServerResponse,
    entry: RecordedRequest,
    delivery: Delivery,
  ): Promise<void> {
    const response = delivery.kind === 'respond' ? delivery.response : delivery.processed;
    entry.status = response?.status ?? 0;
    const latency = this.#latencyFor(entry);
    if (latency > 0) await sleep(latency);
    const socket = req.socket;
    switch (delivery.kind) {
      case 'respond': {
        if (delivery.response.status === 429) this.stats.rateLimited += 1;
        const { status, headers, body } = delivery.response;
        res.writeHead(status, { 'Content-Length': String(Buffer.byteLength(body)), ...headers });
        res.end(body);
        return;
      }
      case 'reset':
        // An RST rather than a FIN: the client sees ECONNRESET, as with a dropped connection.
        socket.resetAndDestroy();
        return;
      case 'hang': {
        const timer =
          delivery.ms === undefined
            ? undefined
            : setTimeout(() => {
                this.#hanging.delete(socket);
                socket.destroy();
              }, delivery.ms);
        this.#hanging.set(socket, timer);
        socket.once('close', () => {
          clearTimeout(this.#hanging.get(socket));
          this.#hanging.delete(socket);
        });
        return;
      }
    }
  }

  #latencyFor(entry: RecordedRequest): number {
    if (!entry.path.startsWith('/api/')) return 0;
    const isCerts = /\/databaseUsers\/[^/]+\/certs$/.test(entry.path);
    if (entry.method === 'POST' && isCerts) return this.latencyMs.create ?? 0;
    if (entry.method === 'GET' && (isCerts || /\/databaseUsers$/.test(entry.path))) {
      return this.latencyMs.list ?? 0;
    }
    return this.latencyMs.other ?? 0;
  }

  // --- Admin API v2 ------------------------------------------------------------------------------

  async #handleApi(ctx: RequestContext, mangle: CreateMangle | undefined): Promise<SimResponse> {
    if (ctx.rawPath === `${V2_PREFIX}rateLimits`) return this.#rateLimits(ctx);
    const isOrgRoute = ctx.rawPath.startsWith(`${V2_PREFIX}orgs/`);
    const mediaType = isOrgRoute ? SERVICE_ACCOUNT_MEDIA_TYPE : ATLAS_MEDIA_TYPE;
    if (!acceptsVersion(ctx.headers.accept, mediaType)) {
      // Observed on another v2 endpoint for an Accept header Atlas cannot serve.
      return apiError(406, 'INVALID_VERSION_DATE', 'Invalid accept header or version date.');
    }
    const budget = this.#buckets?.take(ctx.rawPath) ?? this.#unlimited.take();
    if (!budget.ok) return this.#rateLimited(ctx, budget);
    let response: SimResponse;
    try {
      response = await this.#route(ctx, mangle);
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      response = err.response;
    }
    if (response.status >= 200 && response.status < 300) {
      response.headers['Ratelimit-Limit'] = String(budget.limit);
      response.headers['Ratelimit-Remaining'] = String(budget.remaining);
    }
    return response;
  }

  #rateLimited(ctx: RequestContext, budget: TakeResult & { ok: false }): SimResponse {
    const endpoint = this.#endpointSet(ctx.rawPath);
    const perMinute = (this.#buckets?.options.refillPerSecond ?? 0) * 60;
    const wait = budget.retryAfterSeconds;
    return apiError(
      429,
      'RATE_LIMITED_TOKEN_BUCKET',
      `Rate limit exceeded for ${endpoint}. Please retry after ${wait} seconds. ` +
        `Request capacity: ${budget.limit}. Refill rate: ${perMinute} per 60 seconds.`,
      [endpoint, wait, budget.limit, perMinute, 60],
      { 'Retry-After': String(wait) },
    );
  }

  /**
   * `GET /rateLimits` (2025-03-12, a list of endpoint sets): the certificate endpoints' bucket,
   * `GROUP` scope when buckets are per project, else `ORGANIZATION`. It draws on no bucket.
   */
  #rateLimits(ctx: RequestContext): SimResponse {
    if (!acceptsVersion(ctx.headers.accept, RATE_LIMITS_MEDIA_TYPE)) {
      return apiError(406, 'INVALID_VERSION_DATE', 'Invalid accept header or version date.');
    }
    if (ctx.method !== 'GET') throw new ApiFailure(resourceNotFound(ctx.rawPath));
    if (this.behaviour.rateLimitsEndpoint === 'absent') {
      return apiError(406, 'INVALID_VERSION_DATE', 'Invalid accept header or version date.');
    }
    if (this.behaviour.rateLimitsEndpoint === 'denied') {
      return apiError(
        401,
        'USER_UNAUTHORIZED',
        'Current user is not authorized to perform this action.',
      );
    }
    const options = this.#buckets?.options;
    const capacity = options?.capacity ?? UnlimitedCounter.LIMIT;
    const refill = publishedRefill(options?.refillPerSecond ?? UnlimitedCounter.LIMIT);
    const certs = '/api/atlas/v2/groups/{groupId}/databaseUsers/{username}/certs';
    const set = {
      endpointSetId: 'database-user-certificates',
      endpointSetName: 'Database User Certificates',
      endpoints: [
        { method: 'GET', path: certs },
        { method: 'POST', path: certs },
      ],
      capacity: { value: capacity },
      refillRate: { value: refill.refillRate },
      refillDurationSeconds: { value: refill.refillDurationSeconds },
      scope: options?.scope === 'project' || !options ? 'GROUP' : 'ORGANIZATION',
    };
    const wanted = ctx.query.getAll('endpointPath');
    const results = wanted.length === 0 || wanted.includes(certs) ? [set] : [];
    const response = atlasResponse(200, JSON.stringify({ results, totalCount: results.length }));
    response.headers['Content-Type'] = `${RATE_LIMITS_MEDIA_TYPE};charset=utf-8`;
    return response;
  }

  /** The endpoint-set name the 429 detail quotes, e.g. `api/atlas/v2/groups/{groupId}/...`. */
  #endpointSet(rawPath: string): string {
    const path = rawPath.slice(1).replace(/(\/groups\/)[^/]+/, '$1{groupId}');
    if (/\/databaseUsers\/[^/]+\/certs$/.test(path)) {
      return path.replace(/(\/databaseUsers\/)[^/]+/, '$1{username}');
    }
    return path.replace(/(\/databaseUsers\/)[^/]+\/[^/]+$/, '$1{databaseName}/{username}');
  }

  async #route(ctx: RequestContext, mangle: CreateMangle | undefined): Promise<SimResponse> {
    const segments = ctx.rawPath.slice(V2_PREFIX.length).split('/').map(safeDecode);
    const [root, groupId, resource, ...rest] = segments;
    const notFound = () => new ApiFailure(resourceNotFound(ctx.rawPath));
    if (
      root === 'orgs' &&
      resource === 'serviceAccounts' &&
      rest.length === 1 &&
      ctx.method === 'GET'
    ) {
      return this.#getServiceAccount(rest[0] as string);
    }
    if (root !== 'groups' || groupId === undefined || rest.some((s) => s === undefined)) {
      throw notFound();
    }
    const { method } = ctx;
    if (resource === 'databaseUsers') {
      const [first, second] = rest;
      if (rest.length === 0 && method === 'GET') return this.#listUsers(ctx, groupId);
      if (rest.length === 2 && first !== undefined && second === 'certs') {
        if (method === 'GET') return this.#listCerts(ctx, groupId, first);
        if (method === 'POST') return this.#createCert(ctx, groupId, first, mangle);
      }
      if (rest.length === 2 && first !== undefined && second !== undefined && method === 'GET') {
        return this.#getUser(groupId, first, second);
      }
    }
    if (resource === 'userSecurity') {
      if (rest.length === 0 && method === 'GET') {
        return atlasResponse(200, this.#userSecurityJson(this.#group(groupId)));
      }
      if (rest.length === 1 && rest[0] === 'customerX509' && method === 'DELETE') {
        const project = this.#group(groupId);
        project.customerCaPem = undefined;
        this.stats.customerX509Disabled += 1;
        return atlasResponse(202, this.#userSecurityJson(project));
      }
    }
    throw notFound();
  }

  /** The project, or the 400/404/401 Atlas answers for a malformed or unknown id. */
  #group(groupId: string): Project {
    if (!GROUP_ID.test(groupId)) {
      throw fail(400, 'INVALID_GROUP_ID', `The specified group ID ${groupId} is invalid.`, [
        groupId,
      ]);
    }
    const project = this.#projects.get(groupId);
    if (project) return project;
    if (this.behaviour.unknownGroupResponse === 'NOT_IN_GROUP') {
      throw fail(
        401,
        'NOT_IN_GROUP',
        'Current user is not in the group, or the group does not exist.',
        [groupId],
      );
    }
    throw fail(404, 'GROUP_NOT_FOUND', `No group with ID ${groupId} exists.`, [groupId]);
  }

  #user(project: Project, username: string, path: string): DbUser {
    const user = project.users.get(username);
    if (user) return user;
    throw this.#missingUser(username, path);
  }

  /** The 404 for a database user that does not exist, in the code `missingUserErrorCode` picks. */
  #missingUser(username: string, path: string): ApiFailure {
    const code = this.behaviour.missingUserErrorCode;
    if (code === 'RESOURCE_NOT_FOUND') return new ApiFailure(resourceNotFound(path));
    return fail(404, code, `No user with username ${username} exists.`, [username]);
  }

  #listUsers(ctx: RequestContext, groupId: string): SimResponse {
    const project = this.#group(groupId);
    const page = parsePageRequest(ctx.query);
    const users = [...project.users.values()].map((user) => userJson(groupId, user));
    return atlasResponse(200, paginatedBody(this.#baseUrl + ctx.rawPath, page, users));
  }

  #getUser(groupId: string, databaseName: string, username: string): SimResponse {
    const project = this.#group(groupId);
    const path = `/api/atlas/v2/groups/${groupId}/databaseUsers/${databaseName}/${username}`;
    const user = this.#user(project, username, path);
    if (user.databaseName !== databaseName) throw this.#missingUser(username, path);
    return atlasResponse(200, userJson(groupId, user));
  }

  /** Unexpired certificates (simulator clock), minus those still hidden by `listLagMs`. */
  #listCerts(ctx: RequestContext, groupId: string, username: string): SimResponse {
    const project = this.#group(groupId);
    const page = parsePageRequest(ctx.query);
    this.#user(project, username, ctx.rawPath);
    const now = this.#nowMs();
    const lag = this.behaviour.listLagMs;
    const visible = this.#recordsOf(groupId, username).filter(
      (cert) => cert.notAfter.getTime() > now && cert.mintedAt.getTime() + lag <= now,
    );
    const body = paginatedBody(
      this.#baseUrl + ctx.rawPath,
      page,
      visible.map((cert) => certJson(groupId, cert)),
    );
    const response = atlasResponse(200, body);
    response.headers['X-Java-Method'] = 'ApiAtlasV2DatabaseUsersResource::getValidCertsByUsername';
    return response;
  }

  /** POST `.../certs`: checks in the order body, user, managed mode, customer CA, cap. */
  async #createCert(
    ctx: RequestContext,
    groupId: string,
    username: string,
    mangle: CreateMangle | undefined,
  ): Promise<SimResponse> {
    const months = this.#parseCreateBody(ctx.body);
    const project = this.#group(groupId);
    const user = this.#user(project, username, ctx.rawPath);
    if (user.x509Type !== 'MANAGED' || user.databaseName !== '$external') {
      throw fail(400, 'USER_NOT_MANAGED_X509', 'The user does not have managed mode X509 enabled.');
    }
    if (project.customerCaPem !== undefined && this.behaviour.advancedX509BlocksManaged) {
      throw fail(
        400,
        'CANNOT_GENERATE_CERT_IF_ADVANCED_X509',
        'Cannot generate Atlas-managed certificates while self-managed X.509 is enabled.',
      );
    }
    this.#checkCap(groupId, username);

    const start = truncateToSeconds(this.#now());
    const spec = this.#specFor(username, start, months, mangle);
    const { minted, keys } = await this.#mintAndRecord(project, username, spec, start);
    this.stats.certificatesMinted += 1;
    ctx.entry.serialNumber = minted.serialNumber;
    const response = atlasResponse(201, await this.#createBody(minted, keys, mangle));
    response.headers['X-Java-Method'] = 'ApiAtlasV2DatabaseUsersResource::generateCert';
    return response;
  }

  /** `monthsUntilExpiration` from the body, or the 400 Atlas answers. */
  #parseCreateBody(body: Buffer): number {
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      // An empty body is malformed too: the spec marks the body required. [unconfirmed]
      throw fail(400, 'MALFORMED_JSON', 'Received JSON is malformed.');
    }
    const parsed = CreateCertBody.safeParse(json);
    if (parsed.success) return parsed.data.monthsUntilExpiration;
    const issues = parsed.error.issues;
    if (issues.some((issue) => issue.path.length === 0)) {
      throw fail(400, 'MALFORMED_JSON', 'Received JSON is malformed.');
    }
    if (issues.every((issue) => issue.code === 'too_big')) {
      throw fail(
        400,
        'CERT_EXPIRY_CANNOT_EXCEED_TWO_YEARS',
        'Atlas-generated X.509 certificates have a maximum expiration of 24 months.',
      );
    }
    const attribute = String(issues[0]?.path[0] ?? 'monthsUntilExpiration');
    throw fail(400, 'INVALID_ATTRIBUTE', `Invalid attribute ${attribute} specified.`, [attribute]);
  }

  #checkCap(groupId: string, username: string): void {
    const now = this.#nowMs();
    const records = this.#recordsOf(groupId, username);
    const counted = this.behaviour.capCountsExpired
      ? records.length
      : records.filter((cert) => cert.notAfter.getTime() > now).length;
    // Mints still generating their key count too, so concurrent creates cannot overshoot the cap.
    const inFlight = this.#mintsInFlight.get(certKey(groupId, username)) ?? 0;
    if (counted + inFlight >= this.behaviour.perUserCertLimit) {
      throw fail(
        400,
        'ATLAS_GENERATED_CERTS_LIMIT_EXCEEDED',
        'The limit on generated certificates per user has been reached.',
      );
    }
  }

  /** Subject and validity of the certificate to mint; some mangles change the certificate itself. */
  #specFor(username: string, start: Date, months: number, mangle?: CreateMangle): CertSpec {
    const normal: CertSpec = {
      commonName: username,
      notBefore: new Date(start.getTime() - HOUR_MS),
      notAfter: addCalendarMonths(start, months),
    };
    switch (mangle) {
      case 'wrongCn':
        return { ...normal, commonName: `${username}-other` };
      case 'shortValidity':
        return { ...normal, notAfter: new Date(start.getTime() + DAY_MS) };
      case 'expired': {
        const notAfter = new Date(start.getTime() - 60 * 1000);
        return { ...normal, notBefore: addCalendarMonths(notAfter, -months), notAfter };
      }
      default:
        return normal;
    }
  }

  /** The create body: `cert PEM + key PEM`, or the spoiled variant a fault asks for. */
  async #createBody(
    minted: MintedCertificate,
    keys: RsaKeyPair,
    mangle: CreateMangle | undefined,
  ): Promise<string> {
    switch (mangle) {
      case 'truncate':
        return minted.certificate.slice(0, Math.floor(minted.certificate.length / 2));
      case 'dropKey':
        return minted.certificate;
      case 'wrongKey':
        return minted.certificate + (await privateKeyPem((await this.#otherKey(keys)).privateKey));
      case 'garbage':
        return '<html><body><h1>502 Bad Gateway</h1></body></html>\n';
      default:
        return minted.pem;
    }
  }

  async #mintAndRecord(
    project: Project,
    username: string,
    spec: CertSpec,
    mintedAt: Date,
  ): Promise<{ minted: MintedCertificate; keys: RsaKeyPair }> {
    const key = certKey(project.groupId, username);
    this.#mintsInFlight.set(key, (this.#mintsInFlight.get(key) ?? 0) + 1);
    try {
      const [ca, keys] = await Promise.all([this.#caFor(project), this.#nextKey()]);
      const serial = this.#uniqueSerial();
      const minted = await mintCertificate({ ca, keys, serial, ...spec });
      const records = this.#certs.get(key) ?? [];
      records.push({
        serial,
        notBefore: spec.notBefore,
        notAfter: spec.notAfter,
        subject: subjectFor(spec.commonName),
        mintedAt,
      });
      // Oldest first, like the recorded list.
      records.sort((a, b) => a.notBefore.getTime() - b.notBefore.getTime());
      this.#certs.set(key, records);
      return { minted, keys };
    } finally {
      this.#mintsInFlight.set(key, (this.#mintsInFlight.get(key) ?? 1) - 1);
    }
  }

  #recordsOf(groupId: string, username: string): CertRecord[] {
    return this.#certs.get(certKey(groupId, username)) ?? [];
  }

  #uniqueSerial(): bigint {
    for (;;) {
      const serial = randomSerial();
      if (!this.#issuedSerials.has(serial)) {
        this.#issuedSerials.add(serial);
        return serial;
      }
    }
  }

  #caFor(project: Project): Promise<ProjectCa> {
    if (!project.ca) {
      const ca = this.#caKeys().then((keys) => createProjectCa(keys, this.#now()));
      // A failed generation is retried on next use instead of being cached.
      ca.catch(() => {
        if (project.ca === ca) project.ca = undefined;
      });
      project.ca = ca;
    }
    return project.ca;
  }

  /**
   * Signing keys for a new project CA: fresh per project by default; with a key pool, one extra
   * key shared by every project's CA (each CA still has its own name and certificate), so a
   * benchmark or test suite with many projects does not pay for a key per project.
   */
  #caKeys(): Promise<RsaKeyPair> {
    if (this.#keyPool.length === 0) return generateRsaKeyPair(this.#keyBits);
    this.#sharedCaKeys ??= generateRsaKeyPair(this.#keyBits);
    return this.#sharedCaKeys;
  }

  /** A pooled key (round-robin), or a fresh one when there is no pool. */
  async #nextKey(): Promise<RsaKeyPair> {
    const pooled = this.#keyPool[this.#nextPoolKey % Math.max(1, this.#keyPool.length)];
    if (!pooled) return generateRsaKeyPair(this.#keyBits);
    this.#nextPoolKey += 1;
    return pooled;
  }

  /** A key that is certainly not `used`, for the `wrongKey` mangle. */
  async #otherKey(used: RsaKeyPair): Promise<RsaKeyPair> {
    const other = this.#keyPool.find((key) => key !== used);
    return other ?? generateRsaKeyPair(this.#keyBits);
  }

  #userSecurityJson(project: Project): string {
    const customerX509 = project.customerCaPem === undefined ? {} : { cas: project.customerCaPem };
    return JSON.stringify({
      customerX509,
      ldap: { authenticationEnabled: false, authorizationEnabled: false },
      links: [
        {
          href: `${this.#baseUrl}/api/atlas/v2/groups/${project.groupId}/userSecurity`,
          rel: 'self',
        },
      ],
    });
  }
}
