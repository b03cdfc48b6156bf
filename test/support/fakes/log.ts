import type { Log } from '../../../functions/domain/log.js';

export interface LogEntry {
  level: keyof Log;
  message: string;
  attributes: Record<string, unknown>;
}

/** Keeps every log call, for assertions on warnings. */
export class RecordingLog implements Log {
  readonly entries: LogEntry[] = [];
  private add(level: keyof Log, message: string, attrs: Record<string, unknown>[]): void {
    this.entries.push({ level, message, attributes: Object.assign({}, ...attrs) });
  }
  debug(message: string, ...a: Record<string, unknown>[]): void {
    this.add('debug', message, a);
  }
  info(message: string, ...a: Record<string, unknown>[]): void {
    this.add('info', message, a);
  }
  warn(message: string, ...a: Record<string, unknown>[]): void {
    this.add('warn', message, a);
  }
  error(message: string, ...a: Record<string, unknown>[]): void {
    this.add('error', message, a);
  }
  messages(level: keyof Log): string[] {
    return this.entries.filter((e) => e.level === level).map((e) => e.message);
  }
}
