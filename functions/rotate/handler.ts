import type { Context } from 'aws-lambda';
import { bundledConfig } from '../bundled-config.js';
import { createLambdaLogger } from '../log.js';
import type { RunReport } from '../report.js';
import { parseRotateEvent } from '../request.js';
import { rotateWithConfig } from '../runtime.js';

const logger = createLambdaLogger();

// Stop starting work this long before Lambda's own timeout, to finish and report.
const SAFETY_MARGIN_MS = 20_000;

/** Scheduled (and manual) rotation: validates the payload, runs, returns the run report. */
export const handler = async (event: unknown, context: Context): Promise<RunReport> => {
  logger.addContext(context);
  const request = parseRotateEvent(event);
  const deadline = Date.now() + context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS;
  return rotateWithConfig({
    config: await bundledConfig(),
    request,
    log: logger,
    runId: context.awsRequestId,
    deadline: () => deadline,
  });
};
