import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

/**
 * A counting proxy in front of moto_server. Unlike the test suite's fault proxy it also counts
 * requests that failed (AWS bills those too) and the time moto took, per service and operation.
 * AWS JSON protocols name both in `X-Amz-Target` (`secretsmanager.ListSecrets`,
 * `DynamoDB_20120810.PutItem`, `AWSEvents.PutEvents`).
 */

export type AwsService = 'secretsmanager' | 'dynamodb' | 'events' | 'other';

export interface OperationCount {
  service: AwsService;
  operation: string;
  requests: number;
  /** Non-2xx answers (still requests, still billed). */
  errors: number;
  /** Time from receiving the request to having moto's answer. */
  totalMs: number;
}

const serviceOf = (prefix: string): AwsService => {
  if (prefix === 'secretsmanager') return 'secretsmanager';
  if (prefix.startsWith('DynamoDB')) return 'dynamodb';
  if (prefix === 'AWSEvents') return 'events';
  return 'other';
};

export class AwsCounter {
  readonly #counts = new Map<string, OperationCount>();

  private constructor(
    private readonly server: Server,
    private readonly target: string,
  ) {}

  static async start(target: string): Promise<AwsCounter> {
    let counter: AwsCounter | undefined;
    const server = createServer((req, res) => {
      counter?.handle(req, res).catch(() => res.destroy());
    });
    counter = new AwsCounter(server, target);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return counter;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A snapshot of every operation seen since the last reset. */
  counts(): OperationCount[] {
    return [...this.#counts.values()].map((c) => ({ ...c }));
  }

  reset(): void {
    this.#counts.clear();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private record(target: string, ok: boolean, ms: number): void {
    const dot = target.lastIndexOf('.');
    const service = serviceOf(dot === -1 ? '' : target.slice(0, dot));
    const operation = dot === -1 ? target || '(none)' : target.slice(dot + 1);
    const key = `${service}.${operation}`;
    const entry = this.#counts.get(key) ?? { service, operation, requests: 0, errors: 0, totalMs: 0 };
    entry.requests += 1;
    if (!ok) entry.errors += 1;
    entry.totalMs += ms;
    this.#counts.set(key, entry);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
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
    const target = String(req.headers['x-amz-target'] ?? '');
    this.record(target, upstream.statusCode < 300, performance.now() - started);
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(upstream.headers)) {
      if (value !== undefined && name !== 'transfer-encoding' && name !== 'connection') {
        out[name] = Array.isArray(value) ? value.join(', ') : value;
      }
    }
    res.writeHead(upstream.statusCode, out);
    res.end(body);
  }
}
