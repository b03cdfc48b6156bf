import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { createLambdaLogger } from '../adapters/log.js';
import { addRunMetrics } from '../adapters/signals.js';
import { bundledConfig } from '../bundled-config.js';
import {
  DEPLOYMENT_DIMENSION,
  DEPLOYMENT_ENV,
  METRICS_NAMESPACE,
  SERVICE_NAME,
} from '../domain/names.js';
import type { RunReport } from '../domain/report.js';
import { parseRotateEvent } from '../domain/request.js';
import { REPORT_RESERVE_MS } from '../domain/timing.js';
import { renewalWindowDays, rotateWithConfig } from '../runtime.js';

const logger = createLambdaLogger();
// The construct names the deployment, so its alarms read its runs only (domain/names.ts).
const deployment = process.env[DEPLOYMENT_ENV];
const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: SERVICE_NAME,
  ...(deployment ? { defaultDimensions: { [DEPLOYMENT_DIMENSION]: deployment } } : {}),
});

/** Scheduled (and manual) rotation: validates the payload, runs, returns the run report. */
export const handler = async (event: unknown, context: Context): Promise<RunReport> => {
  logger.addContext(context);
  const request = parseRotateEvent(event);
  // The work ends this long before Lambda's hard stop, so the report still goes out; each create
  // starts only with time for itself and its key's store before then (domain/timing.ts).
  const deadline = Date.now() + context.getRemainingTimeInMillis() - REPORT_RESERVE_MS;
  const config = await bundledConfig();
  const { trigger, ...rest } = request;
  const report = await rotateWithConfig({
    config,
    request: rest,
    log: logger,
    runId: context.awsRequestId,
    deadline: () => deadline,
    trigger,
  });
  // EMF on stdout: CloudWatch turns it into metrics without an API call. A catch-up tick that
  // found nothing to do is not a run (no metrics); one the run lock refused is RunNotStarted.
  addRunMetrics(metrics, report, new Date(), {
    criticalDays: config.rotation.criticalDays,
    renewalWindowDays: renewalWindowDays(config),
  });
  // A dry run records no metrics; flushing an empty set only logs a warning.
  if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  return report;
};
