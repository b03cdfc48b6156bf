/**
 * The package's public API: `import { AtlasX509Rotation } from 'atlas-x509-rotator'`.
 * The construct, its props, the config's types and the function that validates a config
 * exactly as the deployed handlers do.
 */

export { ConfigError } from '../functions/domain/config/errors.js';
export { loadConfigFile } from '../functions/domain/config/load.js';
export { parseConfig } from '../functions/domain/config/resolve.js';
export type { RawConfig } from '../functions/domain/config/schema.js';
export type { RotatorConfig } from '../functions/domain/config/types.js';
export { readConfigFile } from './config.js';
export { AtlasX509Rotation, type AtlasX509RotationProps, type Consumers } from './construct.js';
export type { EcsRedeployTarget } from './ecs-redeploy.js';
export type {
  CredentialRotationProps,
  ManagedCredentialRotation,
} from './managed-credential-rotation.js';
export type { DeploymentMetrics } from './monitoring/metrics.js';
export { AtlasX509RotatorStack, type AtlasX509RotatorStackProps } from './stack.js';
