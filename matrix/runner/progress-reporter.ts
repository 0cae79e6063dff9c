import type { Reporter, TestCase } from 'vitest/node';
import type { TestStatus } from '../results.ts';
import { redactSecrets } from '../local/vendor-env.ts';

/** What a run recorded for one generated test. */
export interface RecordedTest {
  readonly status: TestStatus;
  readonly note: string | null;
  readonly error: string | null;
  readonly durationMs: number;
}

/** Key of a recorded test: `<case_id>/<contract|behavior>`. */
export function recordKey(caseId: string, test: string): string {
  return `${caseId}/${test}`;
}

// Strips terminal colour codes from assertion messages so reports stay plain text.
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

function firstLine(text: string): string {
  return text.replace(ANSI, '').split('\n').find((line) => line.trim() !== '')?.trim() ?? '';
}

export interface ProgressOptions {
  /** Tests the run will report (cases × 2). */
  readonly total: number;
  readonly stream: NodeJS.WritableStream;
  /** Rewrite one status line in place (a TTY outside CI), or print quiet lines every 10 %. */
  readonly interactive: boolean;
}

/**
 * Vitest reporter of `dpone matrix`: records every test's outcome for the run summary and shows
 * progress — a live line (done/total, elapsed, current case) on a TTY, a line per 10 % and one per
 * failure elsewhere.
 */
export class MatrixProgressReporter implements Reporter {
  readonly tests = new Map<string, RecordedTest>();
  private readonly started = performance.now();
  private lastDraw = 0;
  private nextMilestone = 10;

  constructor(private readonly options: ProgressOptions) {}

  onTestCaseResult(testCase: TestCase): void {
    const result = testCase.result();
    const caseId = testCase.parent.type === 'suite' ? testCase.parent.name : testCase.module.moduleId;
    const status: TestStatus = result.state === 'pending' ? 'not_run' : result.state;
    const error = result.state === 'failed' ? redactSecrets(firstLine(result.errors[0]?.message ?? 'failed')) : null;
    this.tests.set(recordKey(caseId, testCase.name), {
      status,
      note: result.state === 'skipped' ? (result.note ?? null) : null,
      error,
      durationMs: Math.round(testCase.diagnostic()?.duration ?? 0),
    });
    if (error) this.line(`FAIL ${caseId} ${testCase.name}: ${error}`);
    this.progress(`${caseId} ${testCase.name}`);
  }

  /** Clears the live line before the final summary is printed. */
  finish(): void {
    if (this.options.interactive) this.options.stream.write('\r\u001b[2K');
  }

  private progress(current: string): void {
    const done = this.tests.size;
    const { total, interactive, stream } = this.options;
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    const elapsed = ((performance.now() - this.started) / 1000).toFixed(1);
    if (interactive) {
      const now = performance.now();
      if (now - this.lastDraw < 80 && done < total) return;
      this.lastDraw = now;
      stream.write(`\r\u001b[2K[${done}/${total}] ${percent}% ${elapsed}s ${current}`);
    } else if (percent >= this.nextMilestone || done === total) {
      this.nextMilestone = Math.floor(percent / 10) * 10 + 10;
      stream.write(`matrix progress: ${done}/${total} tests (${percent}%) after ${elapsed}s\n`);
    }
  }

  private line(text: string): void {
    if (this.options.interactive) this.options.stream.write('\r\u001b[2K');
    this.options.stream.write(`${text}\n`);
  }
}
