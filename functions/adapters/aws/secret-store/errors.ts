import { type ErrorCode, RotatorError } from '../../../domain/errors.js';
import { runWideError } from '../run-wide.js';

export class SecretStoreError extends RotatorError {
  constructor(message: string, code: ErrorCode, remedy: string, cause?: unknown) {
    super(message, { code, remedy, scope: 'user', cause });
    this.name = 'SecretStoreError';
  }
}

export const awsErrorName = (err: unknown): string =>
  (err as { name?: string } | undefined)?.name ?? '';

/**
 * Maps SDK failures to errors that say what to do. Messages hold names and codes only, but for
 * run-wide causes (no region, no credentials, no endpoint: `run-wide.ts`), which stop the run.
 */
export const storeFailure = (action: string, secret: string, err: unknown): RotatorError => {
  const wide = runWideError(err, { service: 'Secrets Manager', action });
  if (wide) return wide;
  const name = awsErrorName(err);
  if (name === 'AccessDeniedException') {
    return new SecretStoreError(
      `Secrets Manager denied ${action} on ${secret}`,
      'SECRET_ACCESS_DENIED',
      'Grant the rotator role access to secrets under the configured prefix.',
      name,
    );
  }
  if (name === 'DecryptionFailure' || name === 'EncryptionFailure' || name.startsWith('KMS')) {
    return new SecretStoreError(
      `KMS refused to ${name === 'DecryptionFailure' ? 'decrypt' : 'encrypt'} ${secret} (${name})`,
      'KMS_ACCESS_DENIED',
      "Check the secret's KMS key exists, is enabled, and its key policy lets the rotator role use it through Secrets Manager.",
      name,
    );
  }
  if (name === 'InvalidRequestException') {
    return new SecretStoreError(
      `Secrets Manager rejected ${action} on ${secret} (${name}); it may be scheduled for deletion`,
      'SECRET_INVALID_STATE',
      'Restore the secret (aws secretsmanager restore-secret) or check its state.',
      name,
    );
  }
  return new SecretStoreError(
    `Secrets Manager ${action} on ${secret} failed (${name || 'unknown error'})`,
    'SECRET_STORE_FAILED',
    'Retry the run; if it persists, check Secrets Manager health and quotas.',
    name,
  );
};

/** IAM checks every principal when a policy is put: a consumer role that does not exist fails it. */
export const policyFailure = (action: string, secret: string, err: unknown): RotatorError => {
  const name = awsErrorName(err);
  if (name === 'MalformedPolicyDocumentException') {
    return new SecretStoreError(
      `Secrets Manager refused the consumers' resource policy for ${secret} (${name})`,
      'RESOURCE_POLICY_REFUSED',
      "Check that every consumer principal in ROTATOR_CONSUMERS (the construct's consumers) for this project exists; the next run puts the policy again.",
      name,
    );
  }
  return storeFailure(action, secret, err);
};
