import type { Context } from 'aws-lambda';
import { createLambdaLogger } from '../adapters/log.js';
import { bundledConfig } from '../bundled-config.js';
import { type DisableReport, parseDisableRequest } from '../domain/customer-x509.js';
import { disableWithConfig } from '../runtime.js';

const logger = createLambdaLogger();

/**
 * Manual only, never scheduled: `{"projectId", "confirm"?, "requestedBy"?, "reason"?}`.
 * Without `confirm` it is a dry run; a refused or failed request throws, so the invoke shows
 * a function error.
 */
export const handler = async (event: unknown, context: Context): Promise<DisableReport> => {
  logger.addContext(context);
  const request = parseDisableRequest(event);
  const report = await disableWithConfig({
    config: await bundledConfig(),
    request,
    log: logger,
    requestId: context.awsRequestId,
  });
  logger.info('disable customer X.509 report', { report });
  return report;
};
