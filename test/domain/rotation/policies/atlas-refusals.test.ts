import { describe, expect, it } from 'vitest';
import {
  ATLAS_REFUSALS,
  CustomerCaBlocksManaged,
  UserNotManagedX509,
} from '../../../../functions/domain/rotation/policies/atlas-refusals.js';
import { firstVerdict } from '../../../../functions/domain/rotation/policies/chain.js';
import { P1 } from '../../../support/fakes/fixtures.js';

describe('policies: what Atlas would refuse', () => {
  const user = { projectId: P1, username: 'app1' };
  const facts = (over: Partial<Parameters<typeof UserNotManagedX509.evaluate>[0]> = {}) => ({
    user,
    databaseUser: { x509Type: 'MANAGED', databaseName: '$external' },
    customerCa: false,
    ...over,
  });

  it.each([
    ['NONE', '$external', 'USER_NOT_MANAGED_X509'],
    ['CUSTOMER', '$external', 'USER_NOT_MANAGED_X509'],
    ['MANAGED', 'admin', 'USER_NOT_MANAGED_X509'],
    ['MANAGED', '$external', undefined],
  ])('x509Type %s on %s: %s', (x509Type, databaseName, code) => {
    const verdict = firstVerdict(
      ATLAS_REFUSALS,
      facts({ databaseUser: { x509Type, databaseName } }),
    );
    expect(verdict?.kind === 'refuse' ? verdict.code : undefined).toBe(code);
  });

  it('a customer CA refuses; unknown facts refuse nothing', () => {
    expect(CustomerCaBlocksManaged.evaluate(facts({ customerCa: true }))).toMatchObject({
      code: 'CANNOT_GENERATE_CERT_IF_ADVANCED_X509',
      remedy: expect.stringMatching(/customer CA.*disable-customer-x509/),
    });
    const unknown = facts({ databaseUser: undefined, customerCa: undefined });
    expect(firstVerdict(ATLAS_REFUSALS, unknown)).toBeUndefined();
  });

  it('names the user and the fix', () => {
    const refusal = UserNotManagedX509.evaluate(
      facts({ databaseUser: { x509Type: 'NONE', databaseName: 'admin' } }),
    );
    expect(refusal).toMatchObject({
      message:
        'Atlas refuses managed certificates for app1: its x509Type is NONE on admin, not MANAGED on $external',
      remedy: `Set x509Type MANAGED (database $external) on ${P1}:app1 in Atlas, or remove the user from the config.`,
    });
  });
});
