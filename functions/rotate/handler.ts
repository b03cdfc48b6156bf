import type { Context } from 'aws-lambda';
import { loadConfigFile, type RotatorConfig } from '../config.js';
import { createLambdaLogger } from '../log.js';
import type { RunReport } from '../report.js';
import { parseRotateEvent } from '../request.js';
import { rotateWithConfig } from '../runtime.js';

const logger = createLambdaLogger();

// The validated config ships inside the function asset; read it once per container.
const CONFIG_PATH =
  process.env.ROTATOR_CONFIG_PATH ?? new URL('./rotation.config.json', import.meta.url).pathname;
let config: Promise<RotatorConfig> | undefined;

// Stop starting work this long before Lambda's own timeout, to finish and report.
const SAFETY_MARGIN_MS = 20_000;

/** Scheduled (and manual) rotation: validates the payload, runs, returns the run report. */
export const handler = async (event: unknown, context: Context): Promise<RunReport> => {
  logger.addContext(context);
  const request = parseRotateEvent(event);
  config ??= loadConfigFile(CONFIG_PATH).catch((err: unknown) => {
    config = undefined; // a fixed file is picked up by the next invoke
    throw err;
  });
  const startedAt = Date.now();
  const budget = context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS;
  return rotateWithConfig({
    config: await config,
    request,
    log: logger,
    runId: context.awsRequestId,
    deadline: () => startedAt + budget,
  });
};
