import { describe, expect, it } from 'vitest';
import type { ValidatedCertificate } from '../../../functions/domain/certificate.js';
import type { UserSettings } from '../../../functions/domain/config/types.js';
import { UserFailure } from '../../../functions/domain/rotation/outcomes.js';
import { listedYet, notListedYet } from '../../../functions/domain/rotation/promote.js';
import type { Run } from '../../../functions/domain/rotation/run-state.js';

const cert = { serialNumber: '42' } as ValidatedCertificate;
const user = { projectId: 'p', username: 'u' } as UserSettings;

/** A run whose Atlas lists `lists` in turn, and whose clock records its sleeps. */
const runListing = (lists: string[][]) => {
  const sleeps: number[] = [];
  let calls = 0;
  const run = {
    tuning: { confirmAttempts: 3, confirmDelayMs: 5 },
    ctx: {
      atlas: {
        listCertificates: async () =>
          (lists[calls++] ?? []).map((serialNumber) => ({ serialNumber })),
      },
      clock: { sleep: async (ms: number) => void sleeps.push(ms) },
    },
  } as unknown as Run;
  return { run, sleeps, calls: () => calls };
};

describe('promote: Atlas must list the new certificate first', () => {
  it('polls the lagging list until the serial shows, within the tuned attempts', async () => {
    const seen = runListing([[], ['41'], ['41', '42']]);
    expect(await listedYet(seen.run, user, cert)).toBe(true);
    expect(seen.sleeps).toEqual([5, 5]);
    const never = runListing([[], [], [], ['42']]);
    expect(await listedYet(never.run, user, cert)).toBe(false);
    expect(never.calls()).toBe(3);
  });

  it('fails a certificate Atlas does not list yet with NEW_CERTIFICATE_NOT_LISTED, keeping the basis', () => {
    const f = notListedYet(cert, { orphans: ['7'] });
    expect(f.orphans).toEqual(['7']);
    expect(f.failed).toBeInstanceOf(UserFailure);
    expect(f.failed).toMatchObject({ code: 'NEW_CERTIFICATE_NOT_LISTED', scope: 'user' });
  });
});
