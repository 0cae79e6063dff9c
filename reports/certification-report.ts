import { STRATEGY_NAMES } from '../engine/strategies/index.ts';
import { SINK_FAMILIES, SOURCE_FAMILIES } from '../matrix/families.ts';
import type { RunMode } from '../matrix/registry.ts';
import { MATRIX } from '../matrix/registry.ts';
import type { CaseOutcome, CasePerformance, CaseStatus, RunSummary, TestStatus } from '../matrix/results.ts';

export const CERTIFICATION_REPORT_SCHEMA = 'dpone.matrix.certification_report.v1';

/** Skips must carry a reason; one that arrives without gets this key so it still shows up. */
export const MISSING_SKIP_REASON = 'no skip reason recorded';

export interface StatusCounts {
  readonly cases: number;
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
}

/** One case as the report states it; the row counts and checksums come from its behavior artifact. */
export interface ReportCase {
  readonly case_id: string;
  readonly source: string;
  readonly sink: string;
  readonly strategy: string;
  readonly status: CaseStatus;
  readonly contract: TestStatus;
  readonly behavior: TestStatus;
  readonly skip_reason: string | null;
  readonly failure: string | null;
  readonly duration_ms: number;
  readonly expected_row_count: number | null;
  readonly actual_row_count: number | null;
  readonly expected_checksum: string | null;
  readonly actual_checksum: string | null;
  /** How the case's services were provided (`memory`, `embedded`, `postgres=embedded, kafka=external` …), `none` when it did not load. */
  readonly provider: string;
  /** Service-backed modes: the load's figures (rows/s, duration, worker peak memory), else null. */
  readonly performance: CasePerformance | null;
}

export interface ReportTotals extends StatusCounts {
  readonly tests_passed: number;
  readonly tests_failed: number;
  readonly tests_skipped: number;
  /** Tests that never started, e.g. a behavior test after its contract test failed. */
  readonly tests_not_run: number;
  /** Canonical matrix cases this run did not select. */
  readonly not_selected: number;
}

/** `certification_report.json`: the machine-readable verdict of one matrix run. */
export interface CertificationReport {
  readonly schema_version: typeof CERTIFICATION_REPORT_SCHEMA;
  readonly generated_at: string;
  readonly started_at: string;
  readonly wall_ms: number;
  readonly run_mode: RunMode;
  readonly provider: string;
  readonly profile: { readonly rows: number; readonly change_ratio: number; readonly delete_ratio: number };
  readonly status: 'green' | 'red';
  /** One line per failed case: `<case_id>: <first failure>`. */
  readonly blockers: readonly string[];
  readonly totals: ReportTotals;
  readonly by_status: Readonly<Record<CaseStatus, StatusCounts>>;
  readonly by_strategy: Readonly<Record<string, StatusCounts>>;
  readonly by_source: Readonly<Record<string, StatusCounts>>;
  readonly by_sink: Readonly<Record<string, StatusCounts>>;
  /** Skip reason → ids of the cases skipped for it. */
  readonly skips: Readonly<Record<string, readonly string[]>>;
  readonly waivers: readonly { readonly family: string; readonly reason: string }[];
  readonly cases: readonly ReportCase[];
}

/** Code-unit order: unlike localeCompare it does not depend on the machine's ICU data. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// Terminal colour codes and control characters come along with assertion messages; they would
// make the SVG invalid XML and clutter the Markdown.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /\u001b\[[0-9;?]*[ -/]*[@-~]|[\u0000-\u001f\u007f]/g;

/** A message reduced to one printable line. */
function oneLine(text: string): string {
  return text.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
}

/** Passed/failed/skipped counts over a set of report cases. */
export function countStatuses(cases: readonly ReportCase[]): StatusCounts {
  const count = (status: CaseStatus) => cases.filter((reportCase) => reportCase.status === status).length;
  return { cases: cases.length, passed: count('passed'), failed: count('failed'), skipped: count('skipped') };
}

/**
 * Counts per key: every canonical key first, in canonical order and even when zero (the document
 * keeps one shape whatever the selection), then keys outside the canon in code-unit order.
 */
function countBy(cases: readonly ReportCase[], keyOf: (reportCase: ReportCase) => string, canonical: readonly string[]): Record<string, StatusCounts> {
  const extra = [...new Set(cases.map(keyOf))].filter((key) => !canonical.includes(key)).sort(compareText);
  return Object.fromEntries([...canonical, ...extra].map((key) => [key, countStatuses(cases.filter((reportCase) => keyOf(reportCase) === key))]));
}

function reportCase(outcome: CaseOutcome): ReportCase {
  const artifact = outcome.behaviorArtifact;
  return {
    case_id: outcome.caseId,
    source: outcome.source,
    sink: outcome.sink,
    strategy: outcome.strategy,
    status: outcome.status,
    contract: outcome.contract,
    behavior: outcome.behavior,
    skip_reason: outcome.skipReason === null ? null : oneLine(outcome.skipReason),
    failure: outcome.failure === null ? null : oneLine(outcome.failure),
    duration_ms: outcome.durationMs,
    expected_row_count: artifact?.expected_row_count ?? null,
    actual_row_count: artifact?.actual_row_count ?? null,
    expected_checksum: artifact?.expected_checksum ?? null,
    actual_checksum: artifact?.actual_checksum ?? null,
    provider: artifact?.provider ?? 'none',
    performance: artifact?.local_evidence?.performance ?? null,
  };
}

function countTests(cases: readonly ReportCase[], state: TestStatus): number {
  return cases.reduce((sum, reportCase) => sum + Number(reportCase.contract === state) + Number(reportCase.behavior === state), 0);
}

/**
 * Folds a run into the certification report: red iff any case failed (skips stay green but are
 * listed by reason), cases sorted by id, every map in a fixed key order so the file checksums
 * the same for the same run. Throws when a case id appears twice.
 */
export function buildCertificationReport(summary: RunSummary): CertificationReport {
  const cases = summary.outcomes.map(reportCase).sort((a, b) => compareText(a.case_id, b.case_id));
  const duplicate = cases.find((reportCase, index) => cases[index + 1]?.case_id === reportCase.case_id);
  if (duplicate) throw new Error(`run summary lists case ${duplicate.case_id} more than once`);

  const withStatus = (status: CaseStatus) => cases.filter((reportCase) => reportCase.status === status);
  const failed = withStatus('failed');
  const skips: Record<string, string[]> = {};
  for (const reportCase of withStatus('skipped')) {
    (skips[reportCase.skip_reason ?? MISSING_SKIP_REASON] ??= []).push(reportCase.case_id);
  }
  const selected = new Set(cases.map((reportCase) => reportCase.case_id));

  return {
    schema_version: CERTIFICATION_REPORT_SCHEMA,
    generated_at: summary.finishedAt,
    started_at: summary.startedAt,
    wall_ms: summary.wallMs,
    run_mode: summary.runMode,
    provider: summary.provider,
    profile: { rows: summary.profile.rows, change_ratio: summary.profile.changeRatio, delete_ratio: summary.profile.deleteRatio },
    status: failed.length ? 'red' : 'green',
    blockers: failed.map((reportCase) => `${reportCase.case_id}: ${reportCase.failure ?? 'failed without a recorded message'}`),
    totals: {
      ...countStatuses(cases),
      tests_passed: countTests(cases, 'passed'),
      tests_failed: countTests(cases, 'failed'),
      tests_skipped: countTests(cases, 'skipped'),
      tests_not_run: countTests(cases, 'not_run'),
      not_selected: MATRIX.filter((matrixCase) => !selected.has(matrixCase.id)).length,
    },
    by_status: { passed: countStatuses(withStatus('passed')), failed: countStatuses(failed), skipped: countStatuses(withStatus('skipped')) },
    by_strategy: countBy(cases, (reportCase) => reportCase.strategy, STRATEGY_NAMES),
    by_source: countBy(cases, (reportCase) => reportCase.source, SOURCE_FAMILIES.map((family) => family.name)),
    by_sink: countBy(cases, (reportCase) => reportCase.sink, SINK_FAMILIES.map((family) => family.name)),
    skips: Object.fromEntries(Object.entries(skips).sort(([a], [b]) => compareText(a, b))),
    waivers: [...summary.waivers]
      .sort((a, b) => compareText(a.family, b.family) || compareText(a.reason, b.reason))
      .map((waiver) => ({ family: waiver.family, reason: oneLine(waiver.reason) })),
    cases,
  };
}
