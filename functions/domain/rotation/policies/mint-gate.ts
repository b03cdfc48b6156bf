import { type CertificateDates, isCritical } from '../../renewal.js';
import type { Refusal } from './chain.js';

/** The mint gate: whether a create may be tried, given the certificates the user already has. */

export interface MintGateInput {
  /** Orphans (certificates whose keys are lost) minted within the window. */
  recentOrphans: number;
  orphanLimit: number;
  orphanWindowDays: number;
  held: CertificateDates | undefined;
  now: Date;
  criticalDays: number;
  /** 1 for the first create of this run, 2 for the retry after an unknown outcome. */
  attempt: number;
}

export type MintGate = { mint: true; pastOrphanLimit: boolean } | { mint: false; refusal: Refusal };

/**
 * Orphans count against Atlas's per-user certificate cap and cannot be deleted, so minting stops
 * at `orphanLimit` lost keys in the window, except once per run for a user with no certificate or
 * one about to expire (`criticalDays`): an expiring certificate is the outage the tool prevents.
 */
export const OrphanLimit = {
  name: 'OrphanLimit',
  evaluate: (input: MintGateInput): MintGate => {
    if (input.recentOrphans < input.orphanLimit) return { mint: true, pastOrphanLimit: false };
    if (CriticalFloor.applies(input)) return { mint: true, pastOrphanLimit: true };
    return {
      mint: false,
      refusal: {
        code: 'ORPHAN_LIMIT',
        message: `refusing to mint: ${input.recentOrphans} certificate(s) minted in the last ${input.orphanWindowDays} days were lost (orphans)`,
        remedy:
          'Atlas caps certificates per user and they cannot be deleted. Find why keys were lost (see earlier failures), fix it, and the limit clears as the orphans age out of the window.',
      },
    };
  },
};

/** No certificate, or one expiring within `criticalDays`: minted once per run past the limit. */
export const CriticalFloor = {
  name: 'CriticalFloor',
  applies: (input: MintGateInput): boolean =>
    input.attempt === 1 && isCritical(input.held, input.now, input.criticalDays),
};

export interface MintCapInput {
  /** Certificates Atlas created for the user within the window, held or not. */
  recentMints: number;
  maxMintsPerWindow: number;
  orphanWindowDays: number;
}

/**
 * The hard stop, critical users included: a certificate rejected every time (a wrong CN, a
 * proxy mangling the body) would otherwise be minted once per run without bound, each one
 * counting against Atlas's per-user cap.
 */
export const MintCap = {
  name: 'MintCap',
  evaluate: (input: MintCapInput): MintGate | undefined =>
    input.recentMints < input.maxMintsPerWindow
      ? undefined
      : {
          mint: false,
          refusal: {
            code: 'MINT_CAP',
            message: `refusing to mint: Atlas already lists ${input.recentMints} certificate(s) created for this user in the last ${input.orphanWindowDays} days (rotation.maxMintsPerWindow is ${input.maxMintsPerWindow})`,
            remedy:
              'Something keeps rejecting or losing new certificates: find it in the earlier failures and fix it. The cap clears as those certificates age out of rotation.orphanWindowDays; raise rotation.maxMintsPerWindow only if many mints a week are expected.',
          },
        },
};

/** The mint gate, in order: the hard cap, then the orphan limit with its critical floor. */
export const mintGate = (input: MintGateInput & MintCapInput): MintGate =>
  MintCap.evaluate(input) ?? OrphanLimit.evaluate(input);
