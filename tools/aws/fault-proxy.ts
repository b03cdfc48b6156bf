import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

/**
 * A small proxy in front of moto_server that fails chosen AWS operations on demand — what moto
 * cannot do by itself — and counts every operation that went through. AWS JSON protocols name
 * the operation in `X-Amz-Target` (`secretsmanager.PutSecretValue`,
 * `DynamoDB_20120810.PutItem`), so faults match on that.
 */

export interface AwsFault {
  /** The operation, e.g. `PutSecretValue` or `UpdateSecretVersionStage`. */
  operation: string;
  /** HTTP status. @default 400 */
  status?: number;
  /** The error's `__type`, e.g. `ThrottlingException`, `InternalServiceError`. */
  errorType: string;
  message?: string;
  /** @default 1; Infinity for "until cleared" */
  times?: number;
  /** Each matching call fails with this probability (drawn from `proxy.random`). @default 1 */
  chance?: number;
}

/** One operation as the proxy answered it: arrival on its clock (ms), and the status sent. */
export interface AwsCall {
  operation: string;
  at: number;
  status: number;
}

export class AwsFaultProxy {
  /** Operations answered successfully by moto, by name. */
  readonly succeeded = new Map<string, number>();
  /** Operations this proxy failed on purpose, by name. */
  readonly injected = new Map<string, number>();
  private faults: (AwsFault & { left: number })[] = [];
  /** Draws for `chance`; tests that need a seeded run replace it. */
  random: () => number = Math.random;
  /** Told of every answered operation, faults included (the bench counts writes per second). */
  onCall: ((call: AwsCall) => void) | undefined;

  private constructor(
    private readonly server: Server,
    private target: string,
  ) {}

  /** Sends everything to another backend from now on (e.g. a fresh moto_server). */
  retarget(target: string): void {
    this.target = target;
  }

  static async start(target: string): Promise<AwsFaultProxy> {
    let proxy: AwsFaultProxy | undefined;
    const server = createServer((req, res) => {
      void proxy?.handle(req, res);
    });
    proxy = new AwsFaultProxy(server, target);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  inject(fault: AwsFault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  clear(): void {
    this.faults = [];
    this.resetCounts();
  }

  /** Forget what went through so far (e.g. a test's own setup writes). */
  resetCounts(): void {
    this.succeeded.clear();
    this.injected.clear();
  }

  count(operation: string): number {
    return this.succeeded.get(operation) ?? 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const operation =
      String(req.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '';
    const fault = this.faults.find(
      (f) =>
        f.operation === operation &&
        f.left > 0 &&
        (f.chance === undefined || this.random() < f.chance),
    );
    if (fault) {
      fault.left -= 1;
      this.injected.set(operation, (this.injected.get(operation) ?? 0) + 1);
      this.onCall?.({ operation, at, status: fault.status ?? 400 });
      res.writeHead(fault.status ?? 400, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(
        JSON.stringify({ __type: fault.errorType, message: fault.message ?? 'injected fault' }),
      );
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && name !== 'host' && name !== 'connection') {
        headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
    }
    const upstream = await request(`${this.target}${req.url ?? '/'}`, {
      method: (req.method ?? 'POST') as 'POST',
      headers,
      body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
    });
    const body = Buffer.from(await upstream.body.arrayBuffer());
    if (upstream.statusCode < 300) {
      this.succeeded.set(operation, (this.succeeded.get(operation) ?? 0) + 1);
    }
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(upstream.headers)) {
      if (value !== undefined && name !== 'transfer-encoding' && name !== 'connection') {
        out[name] = Array.isArray(value) ? value.join(', ') : value;
      }
    }
    this.onCall?.({ operation, at, status: upstream.statusCode });
    res.writeHead(upstream.statusCode, out);
    res.end(body);
  }
}

// The fault suite's setup file starts one proxy per test file; tests reach it here.
let current: AwsFaultProxy | undefined;
export const setAwsProxy = (proxy: AwsFaultProxy): void => {
  current = proxy;
};
export const awsProxy = (): AwsFaultProxy => {
  if (!current) throw new Error('the AWS fault proxy is not running (test/faults only)');
  return current;
};
