import type { ManifestFragment } from './manifest.ts';
import type { RunMode } from './registry.ts';

/** Verdict of one case: both tests passed, any failed, or skipped with a written reason. */
export type CaseStatus = 'passed' | 'failed' | 'skipped';

/** State of one generated test (contract or behavior). */
export type TestStatus = 'passed' | 'failed' | 'skipped' | 'not_run';

export interface QualityCheckResult {
  readonly name: string;
  readonly passed: boolean;
  /** What was compared, with the figures: readable by a reviewer without the code. */
  readonly detail: string;
}

/** A row shown in an artifact: key, row hash and a handful of leading columns (never the full row). */
export type SampleRow = Readonly<Record<string, string | number | boolean | null>>;

export interface SampleSet {
  readonly target_before: readonly SampleRow[];
  readonly source_rows: readonly SampleRow[];
  readonly expected_rows: readonly SampleRow[];
  readonly actual_rows: readonly SampleRow[];
  /** Sample keys whose expected and actual rows differ. */
  readonly mismatched_keys: readonly (string | number)[];
}

/** The fields every `<case_id>__behavior.json` starts with: which case, run how. */
export interface BehaviorIdentity {
  readonly schema_version: 'dpone.matrix.behavior.v1';
  readonly case_id: string;
  readonly source: string;
  readonly sink: string;
  readonly strategy: string;
  readonly run_mode: RunMode;
  readonly provider: string;
}

/** `<case_id>__behavior.json`: the runbook fields plus run_mode, provider, skip_reason, duration_ms. */
export interface BehaviorArtifact extends BehaviorIdentity {
  readonly skip_reason: string | null;
  readonly duration_ms: number;
  readonly configured_row_count: number;
  readonly changed_row_count: number;
  readonly deleted_row_count: number;
  readonly updated_row_count: number;
  readonly inserted_row_count: number;
  readonly target_before_count: number;
  readonly source_row_count: number;
  readonly expected_source_row_count: number;
  readonly expected_row_count: number;
  readonly actual_row_count: number;
  readonly expected_checksum: string;
  readonly actual_checksum: string;
  /** SCD2 targets: current versions expected and found (null for other strategies). */
  readonly expected_current_row_count: number | null;
  readonly actual_current_row_count: number | null;
  /** Event-log sinks: events in the topic after the load. */
  readonly expected_event_count: number | null;
  readonly actual_event_count: number | null;
  /** Names of the checks evaluated (the runbook's list). */
  readonly quality_checks: readonly string[];
  readonly quality_check_results: readonly QualityCheckResult[];
  /** Lifecycle phases as they ran, `phase[:batch]=ok|failed`. */
  readonly lifecycle: readonly string[];
  readonly committed_state: Readonly<Record<string, unknown>> | null;
  readonly load_error: string | null;
  readonly samples: SampleSet | null;
  readonly passed: boolean;
  /** Local modes: the services used and the performance, state and reconciliation evidence. */
  readonly local_evidence?: LocalCaseEvidence;
}

/** A service a local-mode case used: provider kind and a description (never a credential). */
export interface CaseServiceUse {
  readonly provider: string;
  readonly description: string;
}

/** Figures of one real load (metric names of the performance-certification gate). */
export interface CasePerformance {
  /** Rows extracted from the source per second of the load (extract through cleanup). */
  readonly throughput_rows_per_second: number;
  readonly duration_seconds: number;
  /** Peak resident memory of the worker process tree during the load, MiB. */
  readonly memory_peak_mb: number;
  /** Time spent building source and target before the load (not part of the load). */
  readonly seed_seconds: number;
  readonly rows: number;
}

/** The pipeline state around one load: what was there, what the load committed, what is stored now. */
export interface CaseStateEvidence {
  readonly pipeline: string;
  /** Where the state lives, e.g. `postgres etl_state.__dpone__loads` or `kafka topic`. */
  readonly store: string;
  readonly state_before: Readonly<Record<string, unknown>>;
  readonly committed_state: Readonly<Record<string, unknown>> | null;
  /** Read back from the store after the load. */
  readonly stored_state: Readonly<Record<string, unknown>>;
  /** Stored state equals the committed one (and differs from the state before when the load moved it). */
  readonly stored_matches_committed: boolean;
  /** commit_state ran after every reconcile of its batch and before cleanup. */
  readonly committed_after_reconcile: boolean;
}

/** Reconciliation figures of one load, per batch, as the sink observed them. */
export interface CaseReconciliationEvidence {
  readonly batches: readonly {
    readonly batch: string;
    readonly staged_rows: number | null;
    readonly expected_staged_rows: number | null;
    readonly checks: readonly { readonly check: string; readonly expected: number; readonly observed: number; readonly passed: boolean }[];
  }[];
  readonly target_rows_expected: number;
  readonly target_rows_observed: number;
  readonly checksum_expected: string;
  readonly checksum_observed: string;
  readonly passed: boolean;
}

export interface LocalCaseEvidence {
  /** Namespace of the case on the services (schema, database or topic prefix). */
  readonly namespace: string;
  readonly services: Readonly<Record<string, CaseServiceUse>>;
  readonly performance: CasePerformance;
  readonly state: CaseStateEvidence;
  readonly reconciliation: CaseReconciliationEvidence;
}

/** `<case_id>__behavior.json` of a case the mode skipped: identity, mode and the reason. */
export interface SkippedBehaviorArtifact extends BehaviorIdentity {
  readonly skip_reason: string;
  readonly duration_ms: 0;
  readonly passed: null;
}

/** `<case_id>__metadata.json`: the case as the registry defines it, plus how this run treated it. */
export interface MetadataArtifact {
  readonly schema_version: 'dpone.matrix.metadata.v1';
  readonly case_id: string;
  readonly source: string;
  readonly sink: string;
  readonly strategy: string;
  readonly group: string;
  readonly guide: string;
  readonly install_extras: readonly string[];
  readonly profiles: readonly string[];
  readonly local_service_supported: boolean;
  readonly external_credentials_required: boolean;
  readonly services: readonly string[];
  readonly manifest_fragment: ManifestFragment;
  readonly run_mode: RunMode;
  readonly provider: string;
  readonly skip_reason: string | null;
  readonly duration_ms: number;
}

/** One case after a run: the two test states and what its artifacts said. */
export interface CaseOutcome {
  readonly caseId: string;
  readonly source: string;
  readonly sink: string;
  readonly strategy: string;
  readonly group: string;
  readonly status: CaseStatus;
  readonly contract: TestStatus;
  readonly behavior: TestStatus;
  readonly skipReason: string | null;
  /** First failure message, one line. */
  readonly failure: string | null;
  readonly durationMs: number;
  readonly behaviorArtifact: BehaviorArtifact | null;
}

/** Everything a report needs about one matrix run. */
export interface RunSummary {
  readonly runMode: RunMode;
  readonly provider: string;
  readonly profile: { readonly rows: number; readonly changeRatio: number; readonly deleteRatio: number };
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly wallMs: number;
  readonly artifactDir: string;
  readonly outcomes: readonly CaseOutcome[];
  /** Families waived by the caller (`--waive mssql`), carried into every report. */
  readonly waivers: readonly { readonly family: string; readonly reason: string }[];
}
