import { describe, expect, it } from 'vitest';
import {
  longestLifetimeDays,
  longestRenewalWindowDays,
  renewWindowProblem,
  shortestLifetimeDays,
} from '../../../functions/domain/config/lifetime.js';

describe('config: certificate lifetimes', () => {
  it('counts 28 days a month at least and 31 at most', () => {
    expect(shortestLifetimeDays(3)).toBe(84);
    expect(longestLifetimeDays(3)).toBe(93);
  });

  it('bounds the renewal window by renewBeforeDays, else a third of the longest lifetime', () => {
    expect(longestRenewalWindowDays({ monthsUntilExpiration: 3, renewBeforeDays: 20 })).toBe(20);
    expect(longestRenewalWindowDays({ monthsUntilExpiration: 3, renewBeforeDays: undefined })).toBe(
      31,
    );
    for (const months of [1, 2, 5, 7, 12, 24]) {
      expect(
        longestRenewalWindowDays({ monthsUntilExpiration: months, renewBeforeDays: undefined }),
      ).toBe((months * 31) / 3);
    }
  });

  it('refuses a window as long as the shortest lifetime', () => {
    expect(renewWindowProblem(undefined, 1)).toBeUndefined();
    expect(renewWindowProblem(27, 1)).toBeUndefined();
    expect(renewWindowProblem(28, 1)).toContain('must be shorter than 28 days');
  });
});
