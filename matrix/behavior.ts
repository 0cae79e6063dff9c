import type { TargetContent } from '../engine/connectors/index.ts';
import type { FaultInjector, LoadReport } from '../engine/lifecycle/index.ts';
import { META_COLUMNS } from '../engine/schema/index.ts';
import type { StrategyRegistry } from '../engine/strategies/index.ts';
import { DEFAULT_STRATEGIES } from '../engine/strategies/index.ts';
import type { OracleExpectation } from '../fixtures/oracle.ts';
import type { SourceFixture } from '../fixtures/source-fixture.ts';
import { sourceFixture } from '../fixtures/source-fixture.ts';
import type { VolumeProfile } from '../fixtures/volume-profile.ts';
import { behaviorIdentity } from './artifacts.ts';
import { sinkFamily, sourceFamily } from './families.ts';
import { MemoryLoadHarness } from './memory-harness.ts';
import type { Judgement } from './quality-checks.ts';
import { projectActual } from './quality-checks.ts';
import type { MatrixCase, RunMode } from './registry.ts';
import type { BehaviorArtifact } from './results.ts';
import { buildSamples } from './samples.ts';

export interface BehaviorOptions {
  readonly profile: VolumeProfile;
  readonly runMode: RunMode;
  /** Strategies to load with; tests pass a registry holding a mutant to prove the matrix notices. */
  readonly strategies?: StrategyRegistry;
  readonly faults?: FaultInjector;
}

/** Rows flagged `__dpone__is_current` in a target. */
function currentVersions(actual: TargetContent): number {
  const index = actual.schema.columns.findIndex((column) => column.name === META_COLUMNS.isCurrent);
  return index < 0 ? 0 : actual.rows.filter((row) => row[index] === true).length;
}

/** What one load of a case produced, as the judge saw it. */
export interface CaseLoadOutcome {
  readonly matrixCase: MatrixCase;
  readonly runMode: RunMode;
  readonly provider: string;
  readonly fixture: SourceFixture;
  readonly expectation: OracleExpectation;
  readonly load: LoadReport;
  readonly loadError: string | null;
  readonly actual: TargetContent;
  readonly judgement: Judgement;
  readonly durationMs: number;
}

/**
 * The behavior artifact of a case from what its load produced: counts → checksum → every quality
 * check evaluated on the actual target → samples. Shared by every mode, so a real service's target
 * is judged exactly as an in-memory one.
 */
export function behaviorArtifactOf(outcome: CaseLoadOutcome): BehaviorArtifact {
  const { fixture, expectation, load, loadError, actual, judgement } = outcome;
  const checks = judgement.results;
  const projected = projectActual(actual, expectation);
  const samples = typeof projected === 'string' ? null : buildSamples(fixture, expectation, projected, actual.schema);
  const sourceRowCount = load.extractedRows;
  const passed = loadError === null
    && sourceRowCount === expectation.sourceRowCount
    && checks.every((result) => result.passed)
    && samples !== null && samples.mismatched_keys.length === 0;
  return {
    ...behaviorIdentity(outcome.matrixCase, outcome.runMode, outcome.provider),
    skip_reason: null,
    duration_ms: Math.round(outcome.durationMs),
    configured_row_count: fixture.profile.rows,
    changed_row_count: fixture.split.changed,
    deleted_row_count: fixture.split.deletes,
    updated_row_count: fixture.split.updates,
    inserted_row_count: fixture.split.inserts,
    target_before_count: fixture.before.length,
    source_row_count: sourceRowCount,
    expected_source_row_count: expectation.sourceRowCount,
    expected_row_count: expectation.rows.length,
    actual_row_count: actual.rows.length,
    expected_checksum: judgement.expected.checksum,
    actual_checksum: judgement.actual?.checksum ?? 'missing-column',
    expected_current_row_count: expectation.currentRows ?? null,
    actual_current_row_count: expectation.currentRows === undefined ? null : currentVersions(actual),
    expected_event_count: expectation.eventCount ?? null,
    actual_event_count: actual.eventCount ?? null,
    quality_checks: checks.map((result) => result.name),
    quality_check_results: checks,
    lifecycle: load.phases.map((event) => `${event.phase}${event.batch ? `:${event.batch}` : ''}=${event.status}`),
    committed_state: load.committedState ? { ...load.committedState } : null,
    load_error: loadError,
    samples,
    passed,
  };
}

/**
 * Runs one case in memory: builds the target from the fixture, loads the delta through the engine,
 * reads the target back and judges it against the oracle.
 */
export async function runCaseBehavior(matrixCase: MatrixCase, options: BehaviorOptions): Promise<BehaviorArtifact> {
  const started = performance.now();
  const fixture = sourceFixture(matrixCase.source, options.profile);
  const strategy = (options.strategies ?? DEFAULT_STRATEGIES).get(matrixCase.strategy);
  const harness = new MemoryLoadHarness(fixture, matrixCase.id, sourceFamily(matrixCase.source).capabilities, sinkFamily(matrixCase.sink).kind, strategy);
  const { report: load, error: loadError } = await harness.load(options.faults);
  const { actual, judgement } = await harness.judge(load);
  return behaviorArtifactOf({
    matrixCase, runMode: options.runMode, provider: 'memory', fixture, expectation: harness.expectation,
    load, loadError, actual, judgement, durationMs: performance.now() - started,
  });
}
