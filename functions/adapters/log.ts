import type { LogItem } from '@aws-lambda-powertools/logger';
import { Logger } from '@aws-lambda-powertools/logger';

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
