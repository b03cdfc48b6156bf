import { z } from 'zod';
import { formatZodIssues } from './config/errors.js';
import { RotatorError } from './errors.js';
import type { RunTrigger } from './report.js';
import {
  REQUEST_ID_PATTERN,
  REQUESTED_AT_FUTURE_TOLERANCE_MS,
  type RotationRequest,
  validateRequest,
} from './rotation/request.js';

/**
 * The rotate function's payload. The schedule sends `{}` (optionally with its scheduled
 * time); a manual invoke may ask for a dry run or force named users.
 */
export const rotateEventSchema = z.strictObject({
  dryRun: z.boolean().default(false),
  force: z.boolean().default(false),
  only: z
    .array(
      z.strictObject({
        projectId: z.string().regex(/^[a-f0-9]{24}$/, 'must be a 24-character hex project id'),
        username: z.string().min(1),
      }),
    )
    .min(1)
    .optional(),
  all: z.boolean().default(false),
  /**
   * With `force`, optional: the request's identity. The same id is served once (a retried
   * invoke mints nothing more for users it served); another id is another request.
   */
  requestId: z
    .string()
    .regex(REQUEST_ID_PATTERN, 'must be 1 to 128 characters of letters, digits and ._:-')
    .optional(),
  /**
   * With `force`, optional: when the operator asked (ISO 8601). Without `requestId`, the same
   * payload with the same `requestedAt` is the same request.
   */
  requestedAt: z.iso.datetime({ offset: true }).optional(),
  /** EventBridge Scheduler's `<aws.scheduler.scheduled-time>`: a scheduled run. */
  scheduledTime: z.string().optional(),
  /** The catch-up schedule's tick: runs only when the run before left users deferred. */
  catchUp: z.literal(true).optional(),
});

export type RotateEvent = z.input<typeof rotateEventSchema>;

export class InvalidEventError extends RotatorError {
  constructor(issues: string[]) {
    super(`Invalid rotate request: ${issues.join('; ')}`, {
      code: 'INVALID_REQUEST',
      remedy:
        'Send {} (scheduled run), {"dryRun":true}, or {"force":true,"only":[{"projectId":"...","username":"..."}],"requestId":"<unique id, to retry safely>"}.',
      scope: 'run',
    });
    this.name = 'InvalidEventError';
  }
}

/** Validates a payload into a request; throws InvalidEventError before anything is called. */
export const parseRotateEvent = (
  event: unknown,
  now: Date = new Date(),
): RotationRequest & { scheduledTime?: string; trigger: RunTrigger } => {
  const parsed = rotateEventSchema.safeParse(event ?? {});
  if (!parsed.success) throw new InvalidEventError(formatZodIssues(parsed.error));
  const { requestedAt: stamp, catchUp, ...rest } = parsed.data;
  const trigger: RunTrigger = catchUp ? 'catch-up' : rest.scheduledTime ? 'schedule' : 'manual';
  const request = {
    ...rest,
    trigger,
    requestedAt: stamp === undefined ? undefined : new Date(stamp),
  };
  try {
    validateRequest(request);
  } catch (err) {
    throw new InvalidEventError([(err as Error).message]);
  }
  if (
    request.requestedAt &&
    request.requestedAt.getTime() > now.getTime() + REQUESTED_AT_FUTURE_TOLERANCE_MS
  ) {
    throw new InvalidEventError([
      `requestedAt: ${stamp} is in the future; give the time the request is made`,
    ]);
  }
  return request;
};
