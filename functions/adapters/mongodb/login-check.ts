import { MongoClient, type MongoClientOptions, MongoError } from 'mongodb';
import { asError } from '../../domain/errors.js';
import type {
  LoginCheckPort,
  LoginCheckRequest,
  LoginCheckResult,
} from '../../domain/rotation/ports.js';

/**
 * The login check on the official `mongodb` driver: a client of its own per certificate, the
 * certificate and key handed to TLS from memory, MONGODB-X509 on `$external` (the server takes
 * the user from the certificate's subject), then `ping` on `admin`. Loaded with a dynamic import
 * only when a project sets `verify.uri` (`runtime.ts`), so other runs never load the driver.
 */

/** Longest driver reason a row, an event or a log line carries. */
const MAX_REASON = 300;

/** Shows up in the cluster's logs and `currentOp`, so a DBA can tell what connected. */
export const APP_NAME = 'atlas-x509-rotator login check';

/** The driver's words, on one line, without anything shaped like a PEM block. */
export const describeDriverError = (err: unknown): string => {
  const e = asError(err);
  const code =
    e instanceof MongoError && e.code !== undefined
      ? ` ${e.code}${'codeName' in e && typeof e.codeName === 'string' ? ` ${e.codeName}` : ''}`
      : '';
  const text = `${e.name}${code}: ${e.message}`
    .replace(/-----BEGIN [^-]*-----[\s\S]*?(-----END [^-]*-----|$)/g, '[PEM]')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > MAX_REASON ? `${text.slice(0, MAX_REASON - 1)}…` : text;
};

/**
 * Driver options of one check: one connection, no retries, every wait inside `timeoutMs`. The
 * driver's own timeouts end first, so its reason (the last server error) is what a refusal
 * reports, not our guard's.
 */
export const checkOptions = (request: LoginCheckRequest): MongoClientOptions => {
  const driverMs = Math.max(1, Math.floor(request.timeoutMs * 0.8));
  return {
    tls: true,
    cert: request.certificate,
    key: request.privateKey,
    authMechanism: 'MONGODB-X509',
    authSource: '$external',
    appName: APP_NAME,
    serverSelectionTimeoutMS: driverMs,
    connectTimeoutMS: driverMs,
    socketTimeoutMS: driverMs,
    maxPoolSize: 1,
    minPoolSize: 0,
    retryReads: false,
    retryWrites: false,
    // Polling monitors: no awaitable hello left waiting on the server when the check ends.
    serverMonitoringMode: 'poll',
  };
};

export class MongoLoginCheck implements LoginCheckPort {
  async check(request: LoginCheckRequest): Promise<LoginCheckResult> {
    let client: MongoClient | undefined;
    let timer: NodeJS.Timeout | undefined;
    try {
      // The URI's own options stand unless the check sets them (client options win).
      client = new MongoClient(request.uri, checkOptions(request));
      const connected = client;
      const login = (async () => {
        await connected.connect();
        const reply = await connected.db('admin').command({ ping: 1 });
        if (reply.ok !== 1) throw new Error('ping did not answer ok: 1');
      })();
      // The driver's own timeouts cover each step; this bounds all of them together.
      const expired = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `no login within ${request.timeoutMs} ms (connect, MONGODB-X509 and ping together)`,
              ),
            ),
          request.timeoutMs,
        );
      });
      login.catch(() => undefined);
      await Promise.race([login, expired]);
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: describeDriverError(err) };
    } finally {
      clearTimeout(timer);
      // Closing never decides the result, nor waits longer than a moment.
      await Promise.race([
        client?.close().catch(() => undefined),
        new Promise((resolve) => setTimeout(resolve, 1_000).unref()),
      ]);
    }
  }
}
