import { describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS } from '../../../../functions/domain/renewal.js';
import type { Verdict } from '../../../../functions/domain/rotation/policies/chain.js';
import {
  type CheckInput,
  HeldCertificateUnknownToAtlas,
  SecretHoldsForeignValue,
  SecretScheduledForDeletion,
} from '../../../../functions/domain/rotation/policies/refusals.js';
import { PendingRotationLeft } from '../../../../functions/domain/rotation/policies/renewal.js';
import {
  alien,
  DELETED,
  FOREIGN,
  gone,
  held,
  input,
  pending,
  state,
  UNKNOWN,
} from './check-input.js';

/** A verdict in one word: the refusal's code, or its kind; undefined when the check passes. */
const said = (v: Verdict | undefined) => (v?.kind === 'refuse' ? v.code : v?.kind);
/** Puts each row's expectation into its title. */
const titled = <O, E>(rows: [string, O, E][]): [string, O, E][] =>
  rows.map(([label, over, want]) => [`${label} → ${String(want ?? 'passes')}`, over, want]);

describe('policies: the checks before renewal', () => {
  const issued = held.notBefore.getTime() + HOUR_MS; // Atlas backdates notBefore by an hour
  const unlisted = { listed: [] };
  const other = { listed: [{ ...held, serialNumber: '9', createdAt: held.notBefore }] };
  const rows = {
    SecretScheduledForDeletion: [
      ['no secret', { state: undefined }, undefined],
      ['a live secret', {}, undefined],
      ['scheduled for deletion', { state: gone }, DELETED],
      ['scheduled for deletion, forced', { state: gone, forced: true }, DELETED],
    ],
    SecretHoldsForeignValue: [
      ['no secret', { state: undefined }, undefined],
      ['an empty secret', { state: state({ current: undefined }) }, undefined],
      ['our value', {}, undefined],
      ['a foreign value', { state: alien }, FOREIGN],
      ['a foreign value, forced', { state: alien, forced: true }, undefined],
    ],
    HeldCertificateUnknownToAtlas: [
      ['listed', {}, undefined],
      ['not listed', unlisted, UNKNOWN],
      ['only others listed', other, UNKNOWN],
      ['unlisted at the grace’s end', { ...unlisted, now: new Date(issued + HOUR_MS) }, undefined],
      ['unlisted past the grace', { ...unlisted, now: new Date(issued + HOUR_MS + 1) }, UNKNOWN],
      ['unlisted, longer grace', { ...unlisted, listLagGraceMs: 30 * DAY_MS }, undefined],
      ['unlisted, expired', { ...unlisted, now: held.notAfter }, undefined],
      ['unlisted, forced', { ...unlisted, forced: true }, undefined],
      ['nothing held', { ...unlisted, held: undefined }, undefined],
    ],
    PendingRotationLeft: [
      ['no secret', { state: undefined }, undefined],
      ['no pending version', {}, undefined],
      ['a pending version', { state: pending }, 'due'],
    ],
  } satisfies Record<string, [string, Partial<CheckInput>, string | undefined][]>;
  const checks = [
    SecretScheduledForDeletion,
    SecretHoldsForeignValue,
    HeldCertificateUnknownToAtlas,
    PendingRotationLeft,
  ];
  describe.each(checks)('$name', (check) => {
    const cases = rows[check.name as keyof typeof rows];
    it.each(titled<Partial<CheckInput>, string | undefined>(cases))('%s', (_, over, want) => {
      expect(said(check.evaluate(input(over)))).toBe(want);
    });
  });
});
