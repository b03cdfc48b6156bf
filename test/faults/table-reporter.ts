import type { Reporter, TestModule } from 'vitest/node';
import type { FaultRow } from './fault-table.js';

const cell = (text: string, width: number): string =>
  text.length > width ? `${text.slice(0, width - 1)}…` : text.padEnd(width);

/**
 * `npm run test:faults`: one line per scenario — what is expected (the test name), what was
 * observed, certificates Atlas minted, secret versions written, secrets leaked.
 */
export default class FaultTableReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const rows: string[] = [];
    let passed = 0;
    let failed = 0;
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        if (state === 'failed') failed += 1;
        const row = test.meta().fault as FaultRow | undefined;
        rows.push(
          [
            state === 'passed' ? 'ok  ' : 'FAIL',
            cell(`${test.parent.type === 'suite' ? `${test.parent.name}: ` : ''}${test.name}`, 96),
            cell(row?.observed ?? '-', 70),
            String(row?.minted ?? '-').padStart(6),
            String(row?.versionsWritten ?? '-').padStart(8),
            String(row ? row.leaks.length : '-').padStart(5),
          ].join(' | '),
        );
      }
    }
    const header = [
      '    ',
      cell('scenario: expected behaviour', 96),
      cell('observed (user:action(code) per run)', 70),
      'minted',
      'versions',
      'leaks',
    ].join(' | ');
    process.stdout.write(`\n${header}\n${'-'.repeat(header.length)}\n${rows.join('\n')}\n`);
    process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  }
}
