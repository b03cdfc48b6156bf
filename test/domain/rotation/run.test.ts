import { describe, expect, it } from 'vitest';
import { urgencyHint } from '../../../functions/domain/rotation/index.js';
import type { SecretState } from '../../../functions/domain/stored-value.js';

const secret = (over: Partial<SecretState>): SecretState => ({
  name: 'p/u',
  arn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:p/u-AbCdEf',
  createdDate: new Date('2026-01-01T00:00:00Z'),
  deletedDate: undefined,
  versions: new Map(),
  currentVersionId: 'v1',
  pendingVersionId: undefined,
  current: undefined,
  notAfterHint: undefined,
  ...over,
});

describe('urgencyHint (order before anything is read)', () => {
  it('puts users without a certificate first, then the soonest expiry, untagged, unknown', () => {
    const byName = {
      unknown: undefined, // no index could be read
      untagged: secret({}),
      later: secret({ notAfterHint: new Date('2027-03-01T00:00:00Z') }),
      soon: secret({ notAfterHint: new Date('2026-12-01T00:00:00Z') }),
      // A first mint that failed leaves an empty secret: as urgent as having none.
      empty: secret({ currentVersionId: undefined }),
      none: null,
    };
    const order = Object.entries(byName)
      .sort(([, x], [, y]) => urgencyHint(x) - urgencyHint(y))
      .map(([name]) => name);
    expect(order.slice(0, 2).sort()).toEqual(['empty', 'none']);
    expect(order.slice(2)).toEqual(['soon', 'later', 'untagged', 'unknown']);
  });
});
