import { styleText } from 'node:util';
import type { Action } from '../domain/report.js';
import { PLAIN, type TableStyle } from '../domain/report-table.js';

/**
 * What the CLI shows on a terminal that it does not show to a pipe: colours and a live progress
 * line. Colour follows the usual conventions: only on a TTY, never with NO_COLOR
 * (https://no-color.org) or TERM=dumb.
 */

type Stream = Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean };

export const colorsFor = (stream: Stream, env: NodeJS.ProcessEnv = process.env): boolean =>
  stream.isTTY === true && env.NO_COLOR === undefined && env.TERM !== 'dumb';

const ACTION_COLORS: Record<Action, Parameters<typeof styleText>[0]> = {
  rotated: 'green',
  resumed: 'green',
  skipped: 'dim',
  planned: 'cyan',
  deferred: 'yellow',
  failed: 'red',
};

export const tableStyle = (colors: boolean): TableStyle =>
  colors
    ? {
        // The CLI decided (colorsFor); styleText would otherwise check stdout itself.
        header: (text) => styleText('bold', text, { validateStream: false }),
        action: (action, text) => styleText(ACTION_COLORS[action], text, { validateStream: false }),
      }
    : PLAIN;

export interface ProgressOptions {
  stream: Stream;
  /** A live line (redrawn in place) rather than periodic lines. */
  live: boolean;
  /** Nothing is shown before this: short runs stay silent. */
  quietForMs?: number;
  /** Without a TTY: one line this often. */
  everyMs?: number;
  now?: () => number;
}

/**
 * Progress of a long run on stderr (stdout carries only the report): `done/total users` as a
 * live line on a terminal, or a line every `everyMs` otherwise, starting after `quietForMs`.
 */
export class Progress {
  private total = 0;
  private done = 0;
  private readonly startedAt: number;
  private lastLineAt: number;
  private drawn = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ProgressOptions) {
    this.startedAt = this.now();
    this.lastLineAt = this.startedAt;
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** Called by the run with each finished user. */
  readonly update = (done: number, total: number): void => {
    this.done = done;
    this.total = total;
    this.timer ??= setInterval(() => this.tick(), this.options.live ? 250 : 1_000).unref();
  };

  private text(): string {
    const seconds = Math.round((this.now() - this.startedAt) / 1000);
    return `${this.done}/${this.total} users done (${seconds} s)`;
  }

  /** Draws when due; exposed for tests with a fake clock. */
  tick(): void {
    const now = this.now();
    if (now - this.startedAt < (this.options.quietForMs ?? 3_000)) return;
    if (this.options.live) {
      this.options.stream.write(`\r\x1b[2K${this.text()}`);
      this.drawn = true;
    } else if (now - this.lastLineAt >= (this.options.everyMs ?? 10_000) || !this.drawn) {
      this.options.stream.write(`progress: ${this.text()}\n`);
      this.lastLineAt = now;
      this.drawn = true;
    }
  }

  /** Stops; a live line is cleared so the report starts on a clean line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.options.live && this.drawn) this.options.stream.write('\r\x1b[2K');
  }
}
