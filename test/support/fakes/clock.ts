import type { Clock } from '../../../functions/domain/rotation/index.js';
import { T0 } from './fixtures.js';

/** Time that moves only when told; `sleep` advances it at once, so waits cost nothing. */
export class FakeClock implements Clock {
  private ms: number;
  /** Milliseconds spent in `sleep`. */
  slept = 0;

  constructor(start: Date = T0) {
    this.ms = start.getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  set(date: Date): void {
    this.ms = date.getTime();
  }

  advance(ms: number): void {
    this.ms += ms;
  }

  sleep(ms: number): Promise<void> {
    this.slept += ms;
    this.advance(ms);
    return Promise.resolve();
  }
}
