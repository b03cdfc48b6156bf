/**
 * The logging surface the domain uses. Powertools' Logger satisfies it (the adapter in
 * `adapters/log.ts`); the domain itself never loads Powertools.
 */
export interface Log {
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}

const drop = (): void => {};

/** A log that drops everything: for tests and library use. */
export const silentLog: Log = { debug: drop, info: drop, warn: drop, error: drop };
