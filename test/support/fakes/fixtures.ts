// The projects, start time and user the fake worlds use unless a test says otherwise.
import type { UserRef } from '../../../functions/domain/rotation/index.js';

export const P1 = '5e2211c17a3e5a48f5497de3';
export const P2 = '6a1f00aa00bb00cc00dd00ee';
/** Where every fake clock starts. */
export const T0 = new Date('2026-09-01T00:00:00.000Z');

/** The user most tests are about. */
export const APP1: UserRef = { projectId: P1, username: 'app1' };
