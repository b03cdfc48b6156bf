import { defineConfig } from 'vitest/config';
import { SlowestFirst } from './test/support/sequencer.js';

const shared = {
  testTimeout: 30_000,
  hookTimeout: 60_000,
  // Key generation and child processes dominate; two cores on CI.
  pool: 'forks' as const,
};

/** The pure projects: no global setup (no bundle build, no moto_server), so they start at once. */
const offline = { ...shared, setupFiles: ['test/support/setup-offline.ts'] };

/**
 * The projects that need the services: one bundle build and one moto_server for all of them
 * (test/support/global-setup.ts).
 */
const services = {
  ...shared,
  globalSetup: ['test/support/global-setup.ts'],
  setupFiles: ['test/support/setup-env.ts'],
  // The shipped bundles load through Node's own loader, untransformed (test/support/bundles.ts).
  server: { deps: { external: [/\/dist\//] } },
};

/** Adapter tests that talk to moto_server itself rather than to a mock. */
const adaptersOnMoto = [
  'test/adapters/aws/credentials.test.ts',
  'test/adapters/aws/secret-store/remove-empty.test.ts',
  'test/adapters/aws/secret-store/remove-empty-replicas.test.ts',
  'test/adapters/aws/secret-store/last-accessed.test.ts',
];

export default defineConfig({
  test: {
    // Vitest's default is one worker fewer than the cores: one on CI's two. Most files wait on
    // moto_server, the simulator or a child process rather than compute, so three share two
    // cores well (npm test on 2 cores: see README, "Development").
    maxWorkers: 3,
    sequence: { sequencer: SlowestFirst },
    projects: [
      {
        test: {
          ...services,
          name: 'main',
          include: ['test/**/*.test.ts'],
          // Atlas contract checks on every simulator exchange (test/contract/setup.ts).
          setupFiles: [...services.setupFiles, 'test/contract/setup.ts'],
          // Whole runs and child processes: each test starts its own simulator and moto names,
          // and handlers load as bundles through Node's own loader, so the files share one
          // module registry per worker (the SDK and the simulator load once: ~15 s less import).
          isolate: false,
          exclude: ['test/faults/**', 'test/infra/**', 'test/domain/**', 'test/adapters/**'],
        },
      },
      {
        // Pure modules against in-memory fakes: no service, no global state to leak between
        // files, so they share one module registry per worker.
        test: { ...offline, name: 'domain', include: ['test/domain/**/*.test.ts'], isolate: false },
      },
      {
        // Adapters over MockAgent or a fake wire: each test owns its agent or client, and the two
        // class-wide SDK mocks are restored after their file.
        test: {
          ...offline,
          name: 'adapters',
          include: ['test/adapters/**/*.test.ts'],
          exclude: adaptersOnMoto,
          isolate: false,
        },
      },
      {
        // The adapters' own calls to moto_server (what a mock cannot show).
        test: { ...services, name: 'adapters-moto', include: adaptersOnMoto, isolate: false },
      },
      {
        // Synth tests only read what they synthesize: sharing one module registry per worker
        // loads aws-cdk-lib once and lets the files share the two common syntheses.
        test: {
          ...services,
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          isolate: false,
        },
      },
      {
        // The fault suite reaches moto_server through a proxy that fails AWS calls on demand.
        test: {
          ...services,
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          // The AWS fault proxy, and the Atlas contract checks (test/contract/setup.ts).
          setupFiles: [
            ...services.setupFiles,
            'test/faults/setup-proxy.ts',
            'test/contract/setup.ts',
          ],
        },
      },
    ],
  },
});
