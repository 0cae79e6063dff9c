import type { TestProjectConfiguration } from 'vitest/config';

/**
 * The vitest projects of dpone. vitest 4 reads projects from `test.projects` in vitest.config.ts,
 * which imports this list; the file stays so a reader sees where the suites live.
 *
 * - `unit`: tests next to the code (engine, fixtures, matrix, reports, cli, certification).
 * - `matrix`: the generated matrix suites, one file per source family. Files share a worker's
 *   module cache (isolate: false) so a source family's fixture is built once per worker.
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
      pool: 'threads',
      testTimeout: 120_000,
    },
  },
];
