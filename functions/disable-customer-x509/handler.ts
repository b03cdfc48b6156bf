import type { Context } from 'aws-lambda';
import { createLambdaLogger } from '../adapters/log.js';
import { bundledConfig } from '../bundled-config.js';
import { type DisableReport, parseDisableRequest } from '../domain/customer-x509.js';
import { ATLAS_REQUEST_TIMEOUT_MS, REPORT_RESERVE_MS } from '../domain/timing.js';
import { disableWithConfig } from '../runtime.js';

const logger = createLambdaLogger();

// No Atlas attempt starts after the deadline, and the DELETE is never cut short once sent: room
// for one whole attempt, then the audit event (its whole budget) and the report.
const MARGIN_MS = ATLAS_REQUEST_TIMEOUT_MS + REPORT_RESERVE_MS;

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
