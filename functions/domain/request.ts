import { z } from 'zod';
import { formatZodIssues } from './config.js';
import { RotatorError } from './errors.js';
import { type RotationRequest, validateRequest } from './rotation/request.js';

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
  /** EventBridge Scheduler's `<aws.scheduler.scheduled-time>`, for the log. */
  scheduledTime: z.string().optional(),
});

export type RotateEvent = z.input<typeof rotateEventSchema>;

export class InvalidEventError extends RotatorError {
  constructor(issues: string[]) {
    super(`Invalid rotate request: ${issues.join('; ')}`, {
      code: 'INVALID_REQUEST',
      remedy:
        'Send {} (scheduled run), {"dryRun":true}, or {"force":true,"only":[{"projectId":"...","username":"..."}]}.',
      scope: 'run',
    });
    this.name = 'InvalidEventError';
  }
}

/** Validates a payload into a request; throws InvalidEventError before anything is called. */
export const parseRotateEvent = (event: unknown): RotationRequest & { scheduledTime?: string } => {
  const parsed = rotateEventSchema.safeParse(event ?? {});
  if (!parsed.success) throw new InvalidEventError(formatZodIssues(parsed.error));
  const request = parsed.data;
  try {
    validateRequest(request);
  } catch (err) {
    throw new InvalidEventError([(err as Error).message]);
  }
  return request;
};
