import { createRequire } from 'node:module';
import type { Builder } from 'junit-report-builder';
import type { RunMode } from '../matrix/registry.ts';
import type { TestStatus } from '../matrix/results.ts';

/**
 * The package is CommonJS whose module.exports is the builder, while its typings declare an ES
 * default export; requiring it gives the object the typings describe.
 */
function junitReportBuilderModule(): Builder {
  return createRequire(import.meta.url)('junit-report-builder') as Builder;
}

/** One generated matrix test as a run recorded it. */
export interface JunitTest {
  readonly caseId: string;
  readonly source: string;
  /** `contract` or `behavior`. */
  readonly test: string;
  readonly status: TestStatus;
  /** Skip reason, for skipped tests. */
  readonly note: string | null;
  /** First failure line, for failed tests. */
  readonly error: string | null;
  readonly durationMs: number;
}

/**
 * JUnit XML of a matrix run, one test suite per source family. Built with junit-report-builder
 * rather than vitest's reporter because a skip must carry its reason: skipped tests hold it as the
 * `skip_reason` property and in their system-out.
 */
export function renderMatrixJunit(runMode: RunMode, tests: readonly JunitTest[]): string {
  const builder = junitReportBuilderModule().newBuilder();
  const sources = [...new Set(tests.map((test) => test.source))];
  for (const source of sources) {
    const suite = builder.testSuite().name(`dpone matrix ${runMode} · ${source}`);
    for (const test of tests.filter((candidate) => candidate.source === source)) {
      const testCase = suite.testCase().className(test.caseId).name(test.test).time(test.durationMs / 1000);
      if (test.status === 'failed') testCase.failure(test.error ?? 'failed');
      else if (test.status === 'not_run') testCase.error(test.error ?? 'the test did not run');
      else if (test.status === 'skipped') {
        const reason = test.note ?? 'no skip reason recorded';
        testCase.skipped().property('skip_reason', reason).standardOutput(`skipped: ${reason}`);
      }
    }
  }
  return builder.build();
}
