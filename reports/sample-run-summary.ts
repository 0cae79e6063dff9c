import type { MatrixCase, RunMode } from '../matrix/registry.ts';
import { behaviorIdentity } from '../matrix/artifacts.ts';
import { MATRIX } from '../matrix/registry.ts';
import type { BehaviorArtifact, CaseOutcome, RunSummary } from '../matrix/results.ts';
import { dispositionFor } from '../matrix/run-modes.ts';

/** How the synthetic run deviates from "every selected case passed". */
export interface SampleRunOptions {
  readonly runMode?: RunMode;
  /** Case ids whose behavior test fails (the contract test passes). */
  readonly failed?: readonly string[];
  /** First failure message of every failed case. */
  readonly failure?: string;
  /** Case ids left out of the run, as a selection would. */
  readonly notSelected?: readonly string[];
  readonly waivers?: RunSummary['waivers'];
}

const ROWS = 10_000;

// DESIGN §4 defaults: append keeps delete events as rows, SCD2 keeps 1,500 expired versions.
function expectedRows(strategy: string): number {
  if (strategy === 'incremental_append') return 12_000;
  if (strategy === 'scd2') return 11_500;
  return ROWS;
}

function behaviorArtifact(matrixCase: MatrixCase, runMode: RunMode, index: number, failed: boolean, durationMs: number): BehaviorArtifact {
  const expected = expectedRows(matrixCase.strategy);
  const checksum = index.toString(16).padStart(16, '0');
  const checks = ['row_count_matches_source_snapshot', 'checksum_matches_source_snapshot', 'delete_keys_absent'];
  return {
    ...behaviorIdentity(matrixCase, runMode, 'memory'),
    skip_reason: null,
    duration_ms: durationMs,
    configured_row_count: ROWS,
    changed_row_count: 2_000,
    deleted_row_count: 500,
    updated_row_count: 1_000,
    inserted_row_count: 500,
    target_before_count: ROWS,
    source_row_count: 2_000,
    expected_source_row_count: 2_000,
    expected_row_count: expected,
    actual_row_count: failed ? expected - 1 : expected,
    expected_checksum: checksum,
    expected_current_row_count: matrixCase.strategy === 'scd2' ? 10_000 : null,
    actual_current_row_count: matrixCase.strategy === 'scd2' ? 10_000 : null,
    actual_checksum: failed ? `f${checksum.slice(1)}` : checksum,
    expected_event_count: null,
    actual_event_count: null,
    quality_checks: checks,
    quality_check_results: checks.map((name) => ({ name, passed: !failed || name === 'delete_keys_absent', detail: name })),
    lifecycle: ['prepare=ok', 'stage=ok', 'validate_staging=ok', 'finalize=ok', failed ? 'reconcile=failed' : 'reconcile=ok'],
    committed_state: failed ? null : { loadId: `L${checksum}` },
    load_error: null,
    samples: null,
    passed: !failed,
  };
}

/**
 * A deterministic RunSummary over the canonical matrix for report tests and sample renders:
 * mode `mock_local` by default, so the 43 BigQuery-sink cases skip with the run mode's own reason;
 * every other selected case passes unless listed in `failed`. Throws on an id the matrix lacks.
 */
export function sampleRunSummary(options: SampleRunOptions = {}): RunSummary {
  const runMode = options.runMode ?? 'mock_local';
  const failed = new Set(options.failed ?? []);
  const notSelected = new Set(options.notSelected ?? []);
  // A mistyped id would silently leave the sample all green.
  const unknown = [...failed, ...notSelected].find((id) => !MATRIX.some((matrixCase) => matrixCase.id === id));
  if (unknown !== undefined) throw new Error(`sample run: unknown case id ${unknown}`);
  const outcomes: CaseOutcome[] = [];
  MATRIX.forEach((matrixCase, index) => {
    if (notSelected.has(matrixCase.id)) return;
    const durationMs = 40 + ((index * 37) % 400);
    const base = { caseId: matrixCase.id, source: matrixCase.source, sink: matrixCase.sink, strategy: matrixCase.strategy, group: matrixCase.group, durationMs };
    const disposition = dispositionFor(matrixCase, runMode);
    if (disposition.action === 'skip') {
      outcomes.push({ ...base, status: 'skipped', contract: 'skipped', behavior: 'skipped', skipReason: disposition.reason, failure: null, behaviorArtifact: null });
      return;
    }
    const isFailed = failed.has(matrixCase.id);
    outcomes.push({
      ...base,
      status: isFailed ? 'failed' : 'passed',
      contract: 'passed',
      behavior: isFailed ? 'failed' : 'passed',
      skipReason: null,
      failure: isFailed ? options.failure ?? 'checksum_matches_source_snapshot: expected checksum differs from actual' : null,
      behaviorArtifact: behaviorArtifact(matrixCase, runMode, index, isFailed, durationMs),
    });
  });
  return {
    runMode,
    provider: 'memory',
    profile: { rows: ROWS, changeRatio: 0.2, deleteRatio: 0.05 },
    startedAt: '2025-06-02T09:00:00.000Z',
    finishedAt: '2025-06-02T09:01:23.400Z',
    wallMs: 83_400,
    artifactDir: `test_artifacts/integration_matrix/${runMode}_latest`,
    outcomes,
    waivers: options.waivers ?? [],
  };
}
