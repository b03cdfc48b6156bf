import { Logger, type LogItem } from '@aws-lambda-powertools/logger';
import { SERVICE_NAME } from '../../functions/domain/names.js';

/** A Powertools logger at DEBUG that keeps every printed line, for leak scans. */
export class CapturingLogger extends Logger {
  readonly lines: string[];

  constructor(lines: string[] = []) {
    super({ serviceName: SERVICE_NAME, logLevel: 'DEBUG' });
    this.lines = lines;
  }

  protected override printLog(_logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    this.lines.push(JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }

  protected override createLogger(): Logger {
    return new CapturingLogger(this.lines);
  }
}
