/**
 * The run's time budget, every number of it in one place. The adapters set their timeouts from
 * these, the engine checks them before each certificate create, the rotate handler derives its
 * margin from them, and `cdk synth` refuses a function timeout too short to ever mint.
 *
 * Pure data: `infra/` imports it without loading an SDK.
 */

/** One Atlas request attempt, headers and body. A create already sent is never shortened. */
export const ATLAS_REQUEST_TIMEOUT_MS = 30_000;

/** One key-holding Secrets Manager attempt (PutSecretValue, a label move): connect, then answer. */
export const KEY_WRITE_CONNECT_TIMEOUT_MS = 2_000;
export const KEY_WRITE_REQUEST_TIMEOUT_MS = 5_000;

/**
 * Storing a minted key, every retry included. A retry is made only if it can finish inside
 * this; the engine starts a create only with this much time left after it.
 */
export const KEY_WRITE_BUDGET_MS = 30_000;

/** All of one publish of the run's events, every batch and SDK retry included. */
export const PUBLISH_BUDGET_MS = 5_000;

/**
 * After the run's work: the credential check (its read gives way at the deadline), the events
 * (capped above) and the metrics, then the report returned. The rotate handler's margin.
 */
export const REPORT_RESERVE_MS = PUBLISH_BUDGET_MS + 5_000;

/**
 * Time a certificate create needs before the run's deadline (or its lease's end): the create's
 * own timeout, the worst case of storing its key, and validation with room to spare. Checked
 * before the first attempt and before every retry.
 */
export const CREATE_RESERVE_MS = ATLAS_REQUEST_TIMEOUT_MS + KEY_WRITE_BUDGET_MS + 5_000;

/**
 * One login check of a new certificate (`verify.uri`): DNS, TLS, MONGODB-X509 and `ping`, the
 * driver's server selection included. It runs after the store, inside what the create reserve
 * leaves; with less than the minimum before the deadline it waits for the next run.
 */
export const VERIFY_TIMEOUT_MS = 10_000;
export const VERIFY_MIN_MS = 3_000;

/** What a run does before its first create: resolve the user, list, read the secret, a lease. */
export const GATHER_ALLOWANCE_MS = 15_000;

/** The shortest rotate function timeout under which a run can still mint one certificate. */
export const MIN_ROTATE_TIMEOUT_SECONDS = Math.ceil(
  (REPORT_RESERVE_MS + GATHER_ALLOWANCE_MS + CREATE_RESERVE_MS) / 1000,
);
