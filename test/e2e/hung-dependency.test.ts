import { createServer, type Server, type Socket } from 'node:net';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgePublisher } from '../../functions/adapters/aws/events.js';
import type { Log } from '../../functions/domain/log.js';
import type { RunReport } from '../../functions/domain/report.js';
import { PUBLISH_BUDGET_MS } from '../../functions/domain/timing.js';
import { freePort } from '../../tools/aws/moto.js';
import { Harness, P1 } from '../support/harness.js';

/** A dependency that accepts connections and never answers. */
const hungServer = async (): Promise<{ endpoint: string; close: () => Promise<void> }> => {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

const warnings = (): { log: Log; seen: Record<string, unknown>[] } => {
  const seen: Record<string, unknown>[] = [];
  const drop = () => {};
  return {
    seen,
    log: {
      debug: drop,
      info: drop,
      error: drop,
      warn: (message, ...attributes) => seen.push({ ...Object.assign({}, ...attributes), message }),
    },
  };
};

const events = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    detailType: 'Atlas X509 Certificate Rotated' as const,
    detail: { i },
  }));

describe('a hung or unreachable EventBridge', () => {
  let hung: Awaited<ReturnType<typeof hungServer>>;
  beforeEach(async () => {
    hung = await hungServer();
  });
  afterEach(async () => hung.close());

  it('costs one publish budget at most, and the warning says what failed', async () => {
    // No timeouts of its own: only the publisher's budget bounds it.
    const client = new EventBridgeClient({ endpoint: hung.endpoint, region: 'us-east-1' });
    const { log, seen } = warnings();
    const started = Date.now();
    const accepted = await new EventBridgePublisher(client, log, { budgetMs: 400 }).publish(
      events(25),
    );
    const took = Date.now() - started;
    expect(accepted).toBe(0);
    expect(took).toBeGreaterThanOrEqual(350);
    expect(took).toBeLessThan(3_000);
    expect(seen).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/could not publish events/),
        dropped: 25,
        error: 'TimeoutError',
        reason: 'no answer within the 400 ms budget for events',
      }),
    ]);
  });

  it('an unreachable bus gives up after the first batch instead of retrying every one', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const client = new EventBridgeClient({ endpoint: closed, region: 'us-east-1', maxAttempts: 1 });
    let sends = 0;
    client.middlewareStack.add(
      (next) => (args) => {
        sends += 1;
        return next(args);
      },
      { step: 'initialize' },
    );
    const { log, seen } = warnings();
    expect(await new EventBridgePublisher(client, log).publish(events(100))).toBe(0);
    expect(sends).toBe(1);
    expect(seen[0]).toMatchObject({ dropped: 100, error: expect.any(String) });
    expect(seen[0]?.error).not.toBe('TimeoutError');
  });

  it('never holds the CLI: the report is printed and the run exits 0 within the budget', async () => {
    const h = await Harness.start();
    try {
      for (const name of ['a', 'b', 'c']) h.sim.addUser(P1, name);
      const config = await h.writeConfig(
        h.config({ projects: [{ projectId: P1, users: ['a', 'b', 'c'] }] }),
      );
      const started = Date.now();
      const result = await h.cli(['--config', config, '--json'], {
        ...h.atlasEnv,
        AWS_ENDPOINT_URL_EVENTBRIDGE: hung.endpoint,
        POWERTOOLS_LOG_LEVEL: 'WARN',
      });
      const took = Date.now() - started;
      expect(result.code).toBe(0);
      expect((JSON.parse(result.stdout) as RunReport).summary).toMatchObject({ rotated: 3 });
      expect(result.stderr).toMatch(/could not publish events/);
      // The run itself takes a few seconds on the simulator; the events add at most the budget.
      expect(took).toBeLessThan(PUBLISH_BUDGET_MS + 15_000);
    } finally {
      await h.close();
    }
  });
});
