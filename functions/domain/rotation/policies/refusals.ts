import { type CertificateDates, heldButUnlisted, type ListedCertificate } from '../../renewal.js';
import type { SecretState } from '../../stored-value.js';
import type { Check, Refuse } from './chain.js';

/** Refusals: a user whose secret or certificate the rotator must not touch, before anything is written. */

/** What the checks look at: gathered once per user by the assess phase. */
export interface CheckInput {
  user: {
    projectId: string;
    username: string;
    secretName: string;
    renewBeforeDays: number | undefined;
  };
  state: SecretState | undefined;
  held: CertificateDates | undefined;
  listed: readonly ListedCertificate[];
  forced: boolean;
  now: Date;
  /** A held certificate younger than this may be missing from Atlas's list. */
  listLagGraceMs: number;
}

const ref = (u: { projectId: string; username: string }): string => `${u.projectId}:${u.username}`;

export const SecretScheduledForDeletion: Check<CheckInput, Refuse> = {
  name: 'SecretScheduledForDeletion',
  evaluate: ({ state, user }) =>
    state?.deletedDate
      ? {
          kind: 'refuse',
          code: 'SECRET_SCHEDULED_FOR_DELETION',
          message: `secret ${user.secretName} is scheduled for deletion (${state.deletedDate.toISOString()})`,
          remedy: `Restore it (aws secretsmanager restore-secret --secret-id ${user.secretName}) or remove the user from the config.`,
        }
      : undefined,
};

export const SecretRotationEnabled: Check<CheckInput, Refuse> = {
  name: 'SecretRotationEnabled',
  evaluate: ({ state, user }) =>
    state?.rotationEnabled
      ? {
          kind: 'refuse',
          code: 'SECRET_ROTATION_ENABLED',
          message: `secret ${user.secretName} has Secrets Manager rotation enabled: another rotator owns its versions`,
          remedy: `Turn that rotation off (aws secretsmanager cancel-rotate-secret --secret-id ${user.secretName}) if this rotator is to own the secret, or point the user at another secretName.`,
        }
      : undefined,
};

export const SecretHoldsForeignValue: Check<CheckInput, Refuse> = {
  name: 'SecretHoldsForeignValue',
  evaluate: ({ state, user, forced }) =>
    state?.current?.kind === 'foreign' && !forced
      ? {
          kind: 'refuse',
          code: 'SECRET_FOREIGN_VALUE',
          message: `secret ${user.secretName} is not ours: ${state.current.problem}`,
          remedy: `Point the user at another secretName, or replace the value deliberately with --force --only ${ref(user)}.`,
        }
      : undefined,
};

export const HeldCertificateUnknownToAtlas: Check<CheckInput, Refuse> = {
  name: 'HeldCertificateUnknownToAtlas',
  evaluate: ({ held, listed, now, listLagGraceMs, forced, user }) =>
    !forced && heldButUnlisted({ held, listed, now, graceMs: listLagGraceMs })
      ? {
          kind: 'refuse',
          code: 'HELD_CERTIFICATE_UNKNOWN_TO_ATLAS',
          message: `Atlas does not list the stored certificate ${held?.serialNumber} although it has not expired`,
          remedy: `Check that ${user.secretName} belongs to ${ref(user)} (was the user re-created?); replace it deliberately with --force --only ${ref(user)}.`,
        }
      : undefined,
};

/** The refusals, in order: a refused user is reported before anything is minted or written. */
export const REFUSALS: readonly Check<CheckInput, Refuse>[] = [
  SecretScheduledForDeletion,
  SecretRotationEnabled,
  SecretHoldsForeignValue,
  HeldCertificateUnknownToAtlas,
];
