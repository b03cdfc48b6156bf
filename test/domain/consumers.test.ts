import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/domain/config/errors.js';
import { consumersFromEnv } from '../../functions/domain/consumers.js';

const P1 = '5e2211c17a3e5a48f5497de3';

describe('consumers (ROTATOR_CONSUMERS)', () => {
  it('maps projects to reader principals; unset means nobody', () => {
    const readers = consumersFromEnv({
      ROTATOR_CONSUMERS: JSON.stringify({ [P1]: ['arn:aws:iam::123456789012:role/app'] }),
    });
    expect(readers(P1)).toEqual(['arn:aws:iam::123456789012:role/app']);
    expect(readers('6a1f00aa00bb00cc00dd00ee')).toEqual([]);
    expect(consumersFromEnv({})(P1)).toEqual([]);
  });

  it.each([
    ['{not json', 'ROTATOR_CONSUMERS: not valid JSON'],
    [JSON.stringify({ nope: [] }), 'ROTATOR_CONSUMERS.nope: Invalid key in record'],
    [JSON.stringify({ [P1]: ['*'] }), `ROTATOR_CONSUMERS.${P1}[0]: must be an IAM principal ARN`],
  ])('rejects %s clearly', (value, message) => {
    expect(() => consumersFromEnv({ ROTATOR_CONSUMERS: value })).toThrow(ConfigError);
    expect(() => consumersFromEnv({ ROTATOR_CONSUMERS: value })).toThrow(message);
  });
});
