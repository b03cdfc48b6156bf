import type { Check, Refuse } from './chain.js';

/** Atlas refusals: what Atlas's create would refuse, checked before a secret is created or a mint tried. */

const ref = (u: { projectId: string; username: string }): string => `${u.projectId}:${u.username}`;

/** What Atlas checks before minting, as read from the project (read only for a user about to mint). */
export interface AtlasFactsInput {
  user: { projectId: string; username: string };
  /** The user as Atlas lists it; undefined when it is not listed or the list was not read. */
  databaseUser: { x509Type: string; databaseName: string } | undefined;
  /** Whether the project has a customer CA; undefined when unknown (not readable, not read). */
  customerCa: boolean | undefined;
}

/** Atlas mints managed certificates only for `x509Type: MANAGED` users on `$external`. */
export const UserNotManagedX509: Check<AtlasFactsInput, Refuse> = {
  name: 'UserNotManagedX509',
  evaluate: ({ databaseUser: u, user }) =>
    u && (u.x509Type !== 'MANAGED' || u.databaseName !== '$external')
      ? {
          kind: 'refuse',
          code: 'USER_NOT_MANAGED_X509',
          message: `Atlas refuses managed certificates for ${user.username}: its x509Type is ${u.x509Type} on ${u.databaseName}, not MANAGED on $external`,
          remedy: `Set x509Type MANAGED (database $external) on ${ref(user)} in Atlas, or remove the user from the config.`,
        }
      : undefined,
};

/** A customer CA ("advanced X.509") on the project makes Atlas refuse managed certificates. */
export const CustomerCaBlocksManaged: Check<AtlasFactsInput, Refuse> = {
  name: 'CustomerCaBlocksManaged',
  evaluate: ({ customerCa, user }) =>
    customerCa
      ? {
          kind: 'refuse',
          code: 'CANNOT_GENERATE_CERT_IF_ADVANCED_X509',
          message: `Atlas refuses managed certificates in project ${user.projectId}: it has a customer CA (self-managed X.509)`,
          remedy:
            "Remove the project's customer CA if it is no longer used (disable-customer-x509; it restarts the project's clusters), or remove the project's users from the config.",
        }
      : undefined,
};

/** In the order Atlas's create checks them. */
export const ATLAS_REFUSALS: readonly Check<AtlasFactsInput, Refuse>[] = [
  UserNotManagedX509,
  CustomerCaBlocksManaged,
];
