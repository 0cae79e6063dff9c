import type { TestProjectConfiguration } from 'vitest/config';

/**
 * The vitest projects of dpone. vitest 4 reads projects from `test.projects` in vitest.config.ts,
 * which imports this list; the file stays so a reader sees where the suites live.
 *
 * - `unit`: tests next to the code (engine, fixtures, matrix, reports, cli, certification).
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
      exclude: ['matrix/suites/**', 'node_modules/**'],
      environment: 'node',
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
