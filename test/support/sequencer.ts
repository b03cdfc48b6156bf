import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The slowest files first, then Vitest's own order. A clean checkout (CI) has no timings cached,
 * and Vitest would start these one-test files late: the suite's wall time is then the slowest
 * file started last. Measured on 2 cores (README, "Development").
 */
const SLOWEST = [
  'test/infra/synth-check.test.ts',
  'test/package/pack-install.test.ts',
  'test/e2e/cli.test.ts',
  'test/faults/atlas-api.test.ts',
  'test/faults/secrets-manager.test.ts',
  'test/faults/atlas-responses.test.ts',
  'test/infra/bundling.test.ts',
  'test/faults/chaos.test.ts',
];

export class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification): number => {
      const at = SLOWEST.findIndex((path) => file.moduleId.endsWith(path));
      return at < 0 ? SLOWEST.length : at;
    };
    return [...sorted].sort((a, b) => rank(a) - rank(b));
  }
}
