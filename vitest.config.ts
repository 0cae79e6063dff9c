import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { projects } from './vitest.workspace.ts';

export default defineConfig({
  test: {
    projects,
    // vitest leaves a core to the main thread by default; the matrix is CPU-bound, so use them all.
    maxWorkers: availableParallelism(),
    reporters: ['default', './reports/closing-line-reporter.ts'],
  },
});
