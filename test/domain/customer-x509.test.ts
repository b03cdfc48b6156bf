import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/domain/config/resolve.js';
import {
  type DisableAtlasPort,
  disableCustomerX509,
} from '../../functions/domain/customer-x509.js';
import type { EventPublisher } from '../../functions/domain/events.js';
import type { Log } from '../../functions/domain/log.js';

const P1 = '5e2211c17a3e5a48f5497de3';
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';

describe('disable: the audit record', () => {
  it('is logged right after the DELETE answers, before the event is even attempted', async () => {
    const trail: string[] = [];
    const log: Log = {
      debug: () => {},
      info: (message) => trail.push(`log:${message}`),
      warn: (message) => trail.push(`log:${message}`),
      error: (message) => trail.push(`log:${message}`),
    };
    const atlas: DisableAtlasPort = {
      getUserSecurity: async () => ({ customerX509: { cas: CA } }),
      disableCustomerX509: async () => {
        trail.push('DELETE');
        return { customerX509: {} };
      },
    };
    // A bus that never answers in time: the record must already exist.
    const events: EventPublisher = {
      publish: async () => {
        trail.push('publish');
        return 0;
      },
    };
    const report = await disableCustomerX509(
      {
        config: parseConfig({ projects: [{ projectId: P1, users: ['a'] }] }),
        atlas,
        events,
        log,
        requestId: 'req-1',
        now: () => new Date('2026-12-01T00:00:00Z'),
      },
      { projectId: P1, confirm: P1, requestedBy: 'alice', reason: 'CHG-1' },
    );
    expect(trail).toEqual([
      'log:disabling customer-managed X.509',
      'DELETE',
      'log:customer-managed X.509 disabled',
      'publish',
      'log:audit event',
    ]);
    expect(report.audit).toMatchObject({
      requestedBy: 'alice',
      reason: 'CHG-1',
      eventPublished: false,
    });
  });
});
