import type { z } from 'zod';
import { RotatorError } from '../errors.js';

/** Raised for any config problem; `issues` name the offending paths. */
export class ConfigError extends RotatorError {
  readonly issues: string[];

  constructor(issues: string[], source?: string) {
    const where = source ? ` in ${source}` : '';
    super(`Invalid rotation config${where}:\n${issues.map((i) => `  - ${i}`).join('\n')}`, {
      code: 'INVALID_CONFIG',
      remedy: 'Fix the listed fields; nothing was called or changed.',
      scope: 'run',
    });
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Renders a zod path like `projects[0].users[1].renewBeforeDays`. */
export const formatPath = (path: readonly PropertyKey[]): string =>
  path
    .map((part, i) =>
      typeof part === 'number' ? `[${part}]` : `${i === 0 ? '' : '.'}${String(part)}`,
    )
    .join('') || '(root)';

type Issue = z.core.$ZodIssue;

/**
 * One line per problem, `path: message`. For a union (a user is a name or an object), report
 * the branch that got furthest instead of zod's bare "Invalid input".
 */
export const formatZodIssues = (error: { issues: readonly Issue[] }): string[] => {
  const lines = (issues: readonly Issue[], prefix: readonly PropertyKey[]): string[] =>
    issues.flatMap((issue) => {
      const path = [...prefix, ...issue.path];
      if (issue.code === 'invalid_union' && issue.errors.length > 0) {
        const depth = (branch: readonly Issue[]) => Math.max(...branch.map((i) => i.path.length));
        const best = [...issue.errors].sort((a, b) => depth(b) - depth(a))[0] ?? [];
        if (depth(best) > 0) return lines(best, path);
      }
      return [`${formatPath(path)}: ${issue.message}`];
    });
  return lines(error.issues, []);
};
