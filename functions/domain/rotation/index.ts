/** The rotation engine's public surface: what the runtime, the CLI and the tests use. */
export { leaseKey } from './acquire.js';
export type {
  AtlasCertificate,
  AtlasDatabaseUser,
  AtlasPort,
  Clock,
  CreateOptions,
  CreateSecretOptions,
  LeasePort,
  LeaseResult,
  LoginCheckPort,
  LoginCheckRequest,
  LoginCheckResult,
  SecretStorePort,
} from './ports.js';
export { systemClock } from './ports.js';
export {
  isForced,
  keyOf,
  RequestError,
  type RotationRequest,
  sameUser,
  type UserRef,
  validateRequest,
} from './request.js';
export { runRotation, urgencyHint } from './run.js';
export { DEFAULT_TUNING, type RotationContext, type RotationTuning } from './run-state.js';
