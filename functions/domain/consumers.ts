import { z } from 'zod';
import { ConfigError, formatZodIssues } from './config.js';

/**
 * Who may read each project's certificate secrets: `ROTATOR_CONSUMERS`, set by the stack from
 * its `consumers` property, JSON `{"<projectId>": ["<principal ARN>", …]}`. The function puts a
 * matching resource policy on each secret it creates.
 */
const consumersSchema = z.record(
  z.string().regex(/^[a-f0-9]{24}$/),
  z.array(
    z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:[\w+=,.@/-]+$/, 'must be an IAM principal ARN'),
  ),
);

export type Consumers = (projectId: string) => readonly string[];

export const consumersFromEnv = (env: NodeJS.ProcessEnv): Consumers => {
  const text = env.ROTATOR_CONSUMERS;
  if (!text) return () => [];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError(['ROTATOR_CONSUMERS: not valid JSON'], 'the environment');
  }
  const parsed = consumersSchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(
      formatZodIssues(parsed.error).map((i) => `ROTATOR_CONSUMERS.${i}`),
      'the environment',
    );
  }
  const map = parsed.data;
  return (projectId) => map[projectId] ?? [];
};
