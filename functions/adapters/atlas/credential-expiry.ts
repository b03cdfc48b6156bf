import { asError, RotatorError } from '../../domain/errors.js';
import type { Log } from '../../domain/log.js';
import { DAY_MS } from '../../domain/renewal.js';
import type { CredentialStatus } from '../../domain/report.js';
import type { AtlasCredentials } from './auth.js';
import type { AtlasClient } from './client.js';

/**
 * A service account's secret expires (8 hours to a year after creation): read when, so that an
 * alarm fires well before the rotator itself loses access. Never fails the run.
 */
export const checkCredentialExpiry = async (input: {
  atlas: Pick<AtlasClient, 'getServiceAccount'>;
  credentials: AtlasCredentials;
  organizationId: string | undefined;
  now: Date;
  log: Log;
}): Promise<CredentialStatus | undefined> => {
  const { credentials, organizationId } = input;
  if (credentials.kind !== 'serviceAccount' || !organizationId) return undefined;
  const status: CredentialStatus = { kind: 'serviceAccount', clientId: credentials.clientId };
  try {
    const account = await input.atlas.getServiceAccount(organizationId, credentials.clientId);
    // Atlas shows only the secret's last characters; they tell ours apart from a newer one.
    const tail = credentials.clientSecret.slice(-4);
    const ours = account.secrets.find((s) => s.maskedSecretValue?.endsWith(tail));
    const newest = [...account.secrets].sort(
      (a, b) => b.expiresAt.getTime() - a.expiresAt.getTime(),
    )[0];
    const secret = ours ?? newest;
    if (!secret) return { ...status, error: 'the service account has no secrets' };
    return {
      ...status,
      secretExpiresAt: secret.expiresAt.toISOString(),
      daysToExpiry:
        Math.floor(((secret.expiresAt.getTime() - input.now.getTime()) / DAY_MS) * 10) / 10,
    };
  } catch (err) {
    const code = err instanceof RotatorError ? err.code : asError(err).name;
    input.log.warn('could not read the service account secret expiry', { errorCode: code });
    return { ...status, error: code };
  }
};
