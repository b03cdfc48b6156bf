import type { LogItem } from '@aws-lambda-powertools/logger';
import { Logger } from '@aws-lambda-powertools/logger';

import type { Log } from '../domain/log.js';
import { SERVICE_NAME } from '../domain/names.js';

/** Structured JSON logs for the Lambda runtime (stdout, as CloudWatch expects). */
export const createLambdaLogger = (): Logger => new Logger({ serviceName: SERVICE_NAME });

/**
 * The same structured logs, written to stderr so that a CLI's stdout carries only its report.
 * Powertools prints through a private console bound to stdout; `printLog` is its documented
 * extension point.
 */
export class StderrLogger extends Logger {
  protected override printLog(_logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    process.stderr.write(`${JSON.stringify(log.getAttributes(), this.getJsonReplacer())}\n`);
  }

  protected override createLogger(options?: ConstructorParameters<typeof Logger>[0]): Logger {
    return new StderrLogger(options);
  }
}

/**
 * What a CLI report (table or JSON) already shows (a user's row, the run's stop, a run the run
 * lock refused): logged on stderr as well only when a log level is asked for
 * (POWERTOOLS_LOG_LEVEL), so each is told once.
 */
const SHOWN_IN_REPORT = new Set(['user done', 'run stopped', 'project failed', 'run not started']);

/** The CLI's log: stderr, WARN unless POWERTOOLS_LOG_LEVEL says otherwise. */
export const cliLogger = (env: NodeJS.ProcessEnv): Log => {
  const level = env.POWERTOOLS_LOG_LEVEL;
  const logger = new StderrLogger({
    serviceName: SERVICE_NAME,
    logLevel: (level ?? 'WARN') as 'WARN',
  });
  if (level) return logger;
  return {
    debug: (message, ...attributes) => logger.debug(message, ...attributes),
    info: (message, ...attributes) => logger.info(message, ...attributes),
    warn: (message, ...attributes) => {
      if (!SHOWN_IN_REPORT.has(message)) logger.warn(message, ...attributes);
    },
    error: (message, ...attributes) => {
      if (!SHOWN_IN_REPORT.has(message)) logger.error(message, ...attributes);
    },
  };
};
