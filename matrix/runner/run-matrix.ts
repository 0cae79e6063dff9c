import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../engine/usage-error.ts';
import type { VolumeProfile } from '../../fixtures/volume-profile.ts';
import { PROFILE_ENV } from '../../fixtures/volume-profile.ts';
import { renderMatrixJunit, writeRunReports } from '../../reports/index.ts';
import { ARTIFACT_DIR_ENV, caseArtifactPath } from '../artifacts.ts';
import { RUN_MODE_ENV } from '../matrix-env.ts';
import type { MatrixCase, RunMode } from '../registry.ts';
import type { BehaviorArtifact, CaseOutcome, RunSummary, TestStatus } from '../results.ts';
import type { CaseDisposition } from '../run-modes.ts';
import { dispositionFor } from '../run-modes.ts';
import type { CaseSelection } from '../selection.ts';
import { describeSelection, SELECTION_ENV, selectCases, selectionToEnv } from '../selection.ts';
import type { RecordedTest } from './progress-reporter.ts';
import { MatrixProgressReporter, recordKey } from './progress-reporter.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SUITES_DIR = join(ROOT, 'matrix', 'suites');
/** Files a run writes besides the per-case artifacts; stale ones are removed before a run. */
const RUN_FILES = ['junit.xml', 'certification_report.json', 'summary.md', 'matrix.svg', 'matrix.html'];

export interface PlannedCase {
  readonly matrixCase: MatrixCase;
  readonly disposition: CaseDisposition;
}

/** Which selected cases a mode runs and which it skips (with the reason). */
export function planMatrixRun(mode: RunMode, selection: CaseSelection): PlannedCase[] {
  return selectCases(selection).map((matrixCase) => ({ matrixCase, disposition: dispositionFor(matrixCase, mode) }));
}

export interface MatrixRunRequest {
  readonly mode: RunMode;
  readonly selection: CaseSelection;
  readonly profile: VolumeProfile;
  /** Absolute directory for per-case artifacts, JUnit and the reports. */
  readonly artifactDir: string;
  readonly progress: { readonly stream: NodeJS.WritableStream; readonly interactive: boolean };
}

export interface MatrixRunResult {
  readonly summary: RunSummary;
  readonly files: readonly string[];
}

/** The suite file of a source family (`rest_api` → matrix/suites/rest-api.matrix.test.ts). */
export function suiteFile(source: string): string {
  return join(SUITES_DIR, `${source.replaceAll('_', '-')}.matrix.test.ts`);
}

function removeStaleArtifacts(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (/__(metadata|behavior)\.json$/.test(name) || RUN_FILES.includes(name)) rmSync(join(dir, name));
  }
}

/** Points the vitest workers at this run: they read mode, selection, profile and directory from env. */
function exportRunEnv(request: MatrixRunRequest): void {
  for (const name of Object.values(SELECTION_ENV)) Reflect.deleteProperty(process.env, name);
  Object.assign(process.env, selectionToEnv(request.selection), {
    [RUN_MODE_ENV]: request.mode,
    [PROFILE_ENV.rows[0]]: String(request.profile.rows),
    [PROFILE_ENV.changeRatio[0]]: String(request.profile.changeRatio),
    [PROFILE_ENV.deleteRatio[0]]: String(request.profile.deleteRatio),
    [ARTIFACT_DIR_ENV]: request.artifactDir,
  });
  Reflect.deleteProperty(process.env, PROFILE_ENV.rows[1]);
}

function readBehavior(dir: string, caseId: string): BehaviorArtifact | null {
  const path = caseArtifactPath(dir, caseId, 'behavior');
  if (!existsSync(path)) return null;
  const artifact = JSON.parse(readFileSync(path, 'utf8')) as BehaviorArtifact | { passed: null };
  return artifact.passed === null ? null : (artifact as BehaviorArtifact);
}

const MISSING_TEST: RecordedTest = { status: 'not_run', note: null, error: 'the test did not run', durationMs: 0 };

function caseOutcome(planned: PlannedCase, tests: ReadonlyMap<string, RecordedTest>, dir: string): CaseOutcome {
  const { matrixCase } = planned;
  const contract = tests.get(recordKey(matrixCase.id, 'contract')) ?? MISSING_TEST;
  const behavior = tests.get(recordKey(matrixCase.id, 'behavior')) ?? MISSING_TEST;
  const states: TestStatus[] = [contract.status, behavior.status];
  const status = states.includes('failed') || states.includes('not_run') ? 'failed'
    : states.every((state) => state === 'skipped') ? 'skipped' : states.includes('skipped') ? 'failed' : 'passed';
  return {
    caseId: matrixCase.id,
    source: matrixCase.source,
    sink: matrixCase.sink,
    strategy: matrixCase.strategy,
    group: matrixCase.group,
    status,
    contract: contract.status,
    behavior: behavior.status,
    skipReason: status === 'skipped' ? (behavior.note ?? contract.note) : null,
    failure: status === 'failed' ? (contract.error ?? behavior.error ?? 'one test skipped while the other ran') : null,
    durationMs: contract.durationMs + behavior.durationMs,
    behaviorArtifact: readBehavior(dir, matrixCase.id),
  };
}

/**
 * Runs the matrix suites through vitest for a selection, then folds test outcomes and per-case
 * artifacts into a RunSummary and writes JUnit, certification_report.json, summary.md and the
 * matrix picture. Only mock_contract executes today; other modes are refused while connectors are
 * missing (their plan is available through `planMatrixRun`).
 */
export async function runMatrix(request: MatrixRunRequest): Promise<MatrixRunResult> {
  const planned = planMatrixRun(request.mode, request.selection);
  if (planned.length === 0) {
    // e.g. --sink kafka --strategy scd2: each filter is valid, together they name no case.
    throw new UsageError('selection', `no case matches ${describeSelection(request.selection)} (each filter is valid, together they name no case)`);
  }
  const runnable = planned.filter((entry) => entry.disposition.action === 'run');
  if (request.mode !== 'mock_contract' && runnable.length > 0) {
    throw new UsageError('--mode', `${request.mode} loads through real connectors and local services, which this build does not have yet; run --mode mock_contract (or add --list to see the ${request.mode} plan)`);
  }
  const sources = [...new Set(planned.map((entry) => entry.matrixCase.source))];
  const files = sources.map(suiteFile);
  const missingSuite = files.find((file) => !existsSync(file));
  if (missingSuite) throw new Error(`no matrix suite file ${missingSuite}: every source family needs one`);

  removeStaleArtifacts(request.artifactDir);
  exportRunEnv(request);
  const reporter = new MatrixProgressReporter({ total: planned.length * 2, ...request.progress });
  const startedAt = new Date();
  const { createVitest } = await import('vitest/node');
  const vitest = await createVitest('test', {
    root: ROOT,
    config: join(ROOT, 'vitest.config.ts'),
    project: ['matrix'],
    watch: false,
    reporters: [reporter],
  }, {}, {
    // vitest's own log lines would mix into --format json output; everything a user needs is
    // reported by the progress reporter, JUnit and the final summary.
    stdout: new Writable({ write: (_chunk, _encoding, done) => done() }),
  });
  try {
    await vitest.start(files);
  } finally {
    await vitest.close();
    reporter.finish();
  }
  const finishedAt = new Date();
  const summary: RunSummary = {
    runMode: request.mode,
    provider: 'memory',
    profile: request.profile,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    wallMs: finishedAt.getTime() - startedAt.getTime(),
    artifactDir: request.artifactDir,
    outcomes: planned.map((entry) => caseOutcome(entry, reporter.tests, request.artifactDir)),
    waivers: [],
  };
  mkdirSync(request.artifactDir, { recursive: true });
  const junitPath = join(request.artifactDir, 'junit.xml');
  const junitTests = planned.flatMap(({ matrixCase }) => ['contract', 'behavior'].map((test) => ({
    caseId: matrixCase.id, source: matrixCase.source, test, ...(reporter.tests.get(recordKey(matrixCase.id, test)) ?? MISSING_TEST),
  })));
  writeFileSync(junitPath, renderMatrixJunit(request.mode, junitTests));
  const reportFiles = await writeRunReports(summary, request.artifactDir);
  return { summary, files: [junitPath, ...reportFiles] };
}
