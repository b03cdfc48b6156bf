import { type CertificateDates, isCritical } from '../../renewal.js';
import { type Check, firstVerdict, type Mint, type Refuse } from './chain.js';

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

export interface MintCapInput {
  /** Certificates Atlas created for the user within the window, held or not. */
  recentMints: number;
  maxMintsPerWindow: number;
  orphanWindowDays: number;
}

export type MintGate = Mint | Refuse;

/**
 * The hard stop, critical users included: a certificate rejected every time (a wrong CN, a
 * proxy mangling the body) would otherwise be minted once per run without bound, each one
 * counting against Atlas's per-user cap.
 */
export const MintCap: Check<MintCapInput, Refuse> = {
  name: 'MintCap',
  evaluate: (input) =>
    input.recentMints < input.maxMintsPerWindow
      ? undefined
      : {
          kind: 'refuse',
          code: 'MINT_CAP',
          message: `refusing to mint: Atlas already lists ${input.recentMints} certificate(s) created for this user in the last ${input.orphanWindowDays} days (rotation.maxMintsPerWindow is ${input.maxMintsPerWindow})`,
          remedy:
            'Something keeps rejecting or losing new certificates: find it in the earlier failures and fix it. The cap clears as those certificates age out of rotation.orphanWindowDays; raise rotation.maxMintsPerWindow only if many mints a week are expected.',
        },
};

/** Fewer lost keys in the window than `orphanLimit`: mint. */
export const WithinOrphanLimit: Check<MintGateInput, Mint> = {
  name: 'WithinOrphanLimit',
  evaluate: (input) =>
    input.recentOrphans < input.orphanLimit ? { kind: 'mint', pastOrphanLimit: false } : undefined,
};

/**
 * No certificate, or one expiring within `criticalDays`: minted once per run past the orphan
 * limit, since an expiring certificate is the outage the tool prevents.
 */
export const CriticalFloor: Check<MintGateInput, Mint> = {
  name: 'CriticalFloor',
  evaluate: (input) =>
    input.attempt === 1 && isCritical(input.held, input.now, input.criticalDays)
      ? { kind: 'mint', pastOrphanLimit: true }
      : undefined,
};

/**
 * Orphans count against Atlas's per-user certificate cap and cannot be deleted, so minting stops
 * at `orphanLimit` lost keys in the window (except by the critical floor, checked before it).
 */
export const OrphanLimit: Check<MintGateInput, Refuse> = {
  name: 'OrphanLimit',
  evaluate: (input) =>
    input.recentOrphans < input.orphanLimit
      ? undefined
      : {
          kind: 'refuse',
          code: 'ORPHAN_LIMIT',
          message: `refusing to mint: ${input.recentOrphans} certificate(s) minted in the last ${input.orphanWindowDays} days were lost (orphans)`,
          remedy:
            'Atlas caps certificates per user and they cannot be deleted. Find why keys were lost (see earlier failures), fix it, and the limit clears as the orphans age out of the window.',
        },
};

/** The mint gate, in order: the hard cap, then the orphan limit with its critical floor. */
export const MINT_GATE: readonly Check<MintGateInput & MintCapInput, MintGate>[] = [
  MintCap,
  WithinOrphanLimit,
  CriticalFloor,
  OrphanLimit,
];

/** The gate's answer: it always answers (within the limit, or past it by the floor, or refused). */
export const mintGate = (input: MintGateInput & MintCapInput): MintGate =>
  firstVerdict(MINT_GATE, input) ?? { kind: 'mint', pastOrphanLimit: false };
