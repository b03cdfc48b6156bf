import { describe, expect, it } from 'vitest';
import { colorsFor, Progress, tableStyle } from '../../functions/cli/terminal.js';

const stream = (isTTY: boolean) => {
  const written: string[] = [];
  return { written, isTTY, write: (chunk: string) => written.push(chunk) > 0 };
};

describe('colours', () => {
  it('only on a terminal, never with NO_COLOR or TERM=dumb', () => {
    expect(colorsFor(stream(true), {})).toBe(true);
    expect(colorsFor(stream(false), {})).toBe(false);
    expect(colorsFor(stream(true), { NO_COLOR: '' })).toBe(false);
    expect(colorsFor(stream(true), { TERM: 'dumb' })).toBe(false);
    expect(tableStyle(false).action('failed', 'failed')).toBe('failed');
    expect(tableStyle(true).action('failed', 'failed')).toBe('\x1b[31mfailed\x1b[39m');
  });
});

describe('progress', () => {
  const clocked = (live: boolean) => {
    let now = 0;
    const out = stream(live);
    const progress = new Progress({ stream: out, live, now: () => now });
    return { out, progress, advance: (ms: number) => (now += ms) };
  };

  it('is silent for short runs', () => {
    const { out, progress, advance } = clocked(false);
    progress.update(1, 300);
    advance(2_900);
    progress.tick();
    progress.stop();
    expect(out.written).toEqual([]);
  });

  it('prints done/total every 10 s to a pipe, from 3 s on', () => {
    const { out, progress, advance } = clocked(false);
    progress.update(12, 300);
    advance(3_000);
    progress.tick();
    progress.update(40, 300);
    advance(5_000);
    progress.tick(); // 5 s after the first line: not yet
    advance(5_000);
    progress.tick();
    progress.stop();
    expect(out.written).toEqual([
      'progress: 12/300 users done (3 s)\n',
      'progress: 40/300 users done (13 s)\n',
    ]);
  });

  it('redraws one line in place on a terminal and clears it at the end', () => {
    const { out, progress, advance } = clocked(true);
    progress.update(5, 10);
    advance(4_000);
    progress.tick();
    progress.update(6, 10);
    progress.tick();
    progress.stop();
    expect(out.written).toEqual([
      '\r\x1b[2K5/10 users done (4 s)',
      '\r\x1b[2K6/10 users done (4 s)',
      '\r\x1b[2K',
    ]);
  });
});
