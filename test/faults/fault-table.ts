import { afterEach, expect, type TestContext } from 'vitest';
import { awsProxy } from '../../tools/aws/fault-proxy.js';
import type { Harness } from '../support/harness.js';

/** One row of `npm run test:faults`. */
export interface FaultRow {
  observed: string;
  minted: number;
  versionsWritten: number;
  leaks: string[];
}

declare module 'vitest' {
  interface TaskMeta {
    fault?: FaultRow;
  }
}

const describeReports = (h: Harness): string =>
  h.reports
    .map((r) =>
      [
        ...r.users.map((u) => `${u.username}:${u.action}${u.errorCode ? `(${u.errorCode})` : ''}`),
        ...(r.error ? [`run:${r.error.code}`] : []),
      ].join(' '),
    )
    .join(' | ') || '(no in-process run)';

/**
 * After every scenario: scan everything it printed or returned for secrets (zero hits
 * required), and record what happened for the fault table.
 */
export const recordFaultRows = (
  world: () => Harness,
  extraSecrets: () => readonly string[] = () => [],
): void => {
  afterEach((ctx: TestContext) => {
    const h = world();
    const leaks = h.leaks(extraSecrets());
    ctx.task.meta.fault = {
      observed: describeReports(h),
      minted: h.sim.stats.certificatesMinted,
      versionsWritten: awsProxy().count('PutSecretValue'),
      leaks,
    };
    expect(leaks, 'secrets in logs, reports or CLI output').toEqual([]);
  });
};
