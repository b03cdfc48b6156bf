import type { Context } from 'aws-lambda';
import { PUBLISH_BUDGET_MS } from '../adapters/aws/events.js';
import { createLambdaLogger } from '../adapters/log.js';
import { bundledConfig } from '../bundled-config.js';
import { type DisableReport, parseDisableRequest } from '../domain/customer-x509.js';
import { disableWithConfig } from '../runtime.js';

const logger = createLambdaLogger();

// Room after the last Atlas retry for the audit event (its whole budget) and the report.
const MARGIN_MS = PUBLISH_BUDGET_MS + 5_000;

/**
 * Manual only, never scheduled: `{"projectId", "confirm"?, "requestedBy"?, "reason"?}`.
 * Without `confirm` it is a dry run; with it, `requestedBy` and `reason` are required. A refused
 * or failed request throws, so the invoke shows a function error.
 */
export const handler = async (event: unknown, context: Context): Promise<DisableReport> => {
  logger.addContext(context);
  const request = parseDisableRequest(event);
  const deadline = Date.now() + context.getRemainingTimeInMillis() - MARGIN_MS;
  const report = await disableWithConfig({
    config: await bundledConfig(),
    request,
    log: logger,
    requestId: context.awsRequestId,
    deadline: () => deadline,
  });
  logger.info('disable customer X.509 report', { report });
  return report;
};
