import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { RawConfig } from '../functions/domain/config/schema.js';
import type { FunctionPlacement } from './network.js';
import { disableStatements, type FunctionAccess } from './permissions.js';
import { RotatorFunction } from './rotator-function.js';

export interface DisableFunctionProps {
  readonly config: RawConfig;
  readonly logRetention: logs.RetentionDays;
  readonly placement: FunctionPlacement;
  readonly runtime: lambda.Runtime;
  readonly access: FunctionAccess;
}

/** The guarded, manual-only function that disables customer-managed X.509 on a project. */
export const disableFunction = (
  scope: Construct,
  props: DisableFunctionProps,
): lambda.IFunction => {
  const disable = new RotatorFunction(scope, 'DisableCustomerX509', {
    handler: 'disable-customer-x509',
    description:
      'atlas-x509-rotator: disables customer-managed X.509 on a configured project (manual, guarded; restarts its clusters)',
    config: props.config,
    timeout: Duration.minutes(2),
    memorySize: 256,
    logRetention: props.logRetention,
    runtime: props.runtime,
    ...props.placement,
    statements: disableStatements(props.access),
  });
  // Restarting clusters must never happen twice because an async invoke was retried.
  disable.function.configureAsyncInvoke({ retryAttempts: 0 });
  return disable.function;
};
