import { DAY_MS, type RenewalPolicy, renewalWindowMs } from '../renewal.js';

const DAYS_PER_MONTH_AT_LEAST = 28;
const DAYS_PER_MONTH_AT_MOST = 31;

/** The shortest lifetime, in days, that `months` calendar months can mean. */
export const shortestLifetimeDays = (monthsValue: number): number =>
  DAYS_PER_MONTH_AT_LEAST * monthsValue;

/** The longest lifetime, in days, that `months` calendar months can mean. */
export const longestLifetimeDays = (monthsValue: number): number =>
  DAYS_PER_MONTH_AT_MOST * monthsValue;

/**
 * The longest a user's renewal window can be while its certificate is unknown: the window of
 * `renewal.ts` over the longest lifetime its months can mean.
 */
export const longestRenewalWindowDays = (
  settings: RenewalPolicy & { monthsUntilExpiration: number },
): number => {
  const lifetime = {
    // The window depends on the dates only.
    serialNumber: '',
    notBefore: new Date(0),
    notAfter: new Date(longestLifetimeDays(settings.monthsUntilExpiration) * DAY_MS),
  };
  return renewalWindowMs(lifetime, settings) / DAY_MS;
};

/**
 * Checks that a renewal window cannot swallow a whole certificate lifetime: otherwise every
 * run would mint. Returns the problem, or undefined.
 */
export const renewWindowProblem = (
  renewBeforeDaysValue: number | undefined,
  monthsValue: number,
): string | undefined => {
  if (renewBeforeDaysValue === undefined) return undefined;
  const shortest = shortestLifetimeDays(monthsValue);
  return renewBeforeDaysValue < shortest
    ? undefined
    : `must be shorter than ${shortest} days, the shortest lifetime ${monthsValue} month(s) can mean (28 days a month), or every run would mint`;
};
