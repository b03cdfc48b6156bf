import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  formatPath,
  formatZodIssues,
} from '../../../functions/domain/config/errors.js';

describe('config: error messages', () => {
  it('renders zod paths as a reader writes them', () => {
    expect(formatPath(['projects', 0, 'users', 1, 'renewBeforeDays'])).toBe(
      'projects[0].users[1].renewBeforeDays',
    );
    expect(formatPath([])).toBe('(root)');
  });

  it("reports the union branch that got furthest, not zod's bare 'Invalid input'", () => {
    const user = z.union([z.string(), z.strictObject({ username: z.string().min(1) })]);
    const parsed = z.object({ users: z.array(user) }).safeParse({ users: [{ username: '' }] });
    expect(parsed.success).toBe(false);
    if (parsed.success) return;
    const [line] = formatZodIssues(parsed.error);
    expect(line).toMatch(/^users\[0\]\.username: /);
  });

  it('names the source and every issue, as a run-wide INVALID_CONFIG', () => {
    const error = new ConfigError(['a: bad', 'b: worse'], 'rotation.json');
    expect(error.message).toBe(
      'Invalid rotation config in rotation.json:\n  - a: bad\n  - b: worse',
    );
    expect(error.code).toBe('INVALID_CONFIG');
    expect(error.scope).toBe('run');
    expect(error.issues).toEqual(['a: bad', 'b: worse']);
  });
});
