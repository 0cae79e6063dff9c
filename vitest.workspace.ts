import type { TestProjectConfiguration } from 'vitest/config';

/**
 * The vitest projects of dpone. vitest 4 reads projects from `test.projects` in vitest.config.ts,
 * which imports this list; the file stays so a reader sees where the suites live.
 *
 * - `unit`: tests next to the code (engine, fixtures, matrix, reports, cli, certification) that
 *   need no service.
 * - `services`: tests next to the code that start real services — embedded PostgreSQL, chdb, a
 *   local Kafka broker, the CLI in a service-backed mode — named `*.service.test.ts`. Their files
 *   run one at a time: each starts its own servers, and two at once on a small runner would leave
 *   the unit tests beside them starved of CPU.
 * - `matrix`: the generated matrix suites, one file per source family. Files share a worker's
 *   module cache (isolate: false) so a source family's fixture is built once per worker. Workers
 *   are processes with a capped heap: at 100,000 rows per case the live data of a worker peaks
 *   near 400 MB, and an uncapped V8 heap would grow to several times that before collecting.
 */
export const projects: TestProjectConfiguration[] = [
  {
    test: {
      name: 'unit',
      include: ['{engine,fixtures,matrix,reports,cli,certification,bench}/**/*.test.ts'],
      exclude: ['matrix/suites/**', '**/*.service.test.ts', 'node_modules/**'],
      environment: 'node',
    },
  },
  {
    test: {
      name: 'services',
      include: ['{engine,fixtures,matrix,cli,bench}/**/*.service.test.ts'],
      environment: 'node',
      pool: 'forks',
      fileParallelism: false,
      testTimeout: 120_000,
      hookTimeout: 180_000,
    },
  },
  {
    test: {
      name: 'matrix',
      include: ['matrix/suites/*.matrix.test.ts'],
      environment: 'node',
      isolate: false,
      pool: 'forks',
      execArgv: ['--max-old-space-size=512', '--max-semi-space-size=16'],
      testTimeout: 120_000,
    },
  },
];
