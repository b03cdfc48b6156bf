const DAYS_PER_MONTH_AT_LEAST = 28;

/** The shortest lifetime, in days, that `months` calendar months can mean. */
export const shortestLifetimeDays = (monthsValue: number): number =>
  DAYS_PER_MONTH_AT_LEAST * monthsValue;

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
