import { SINK_FAMILIES, SOURCE_FAMILIES } from '../matrix/families.ts';
import type { RunSummary } from '../matrix/results.ts';
import type { ReportCase, StatusCounts } from './certification-report.ts';
import { buildCertificationReport, countStatuses } from './certification-report.ts';
import { renderTemplate } from './render-template.ts';
import { formatCases, formatCount, formatDuration, runHeadline } from './run-headline.ts';

/** Failures in bold so a red row stands out in a column of zeros. */
function failedCell(failed: number): string {
  return failed ? `**${failed}**` : '0';
}

/** `8/10 · **2 failed**`: passed out of cases, then whatever was not green; `—` where the pair has no case. */
function pairCell(counts: StatusCounts): string {
  if (!counts.cases) return '—';
  const parts = [`${counts.passed}/${counts.cases}`];
  if (counts.failed) parts.push(`**${counts.failed} failed**`);
  if (counts.skipped) parts.push(`${counts.skipped} skipped`);
  return parts.join(' · ');
}

/** Expected vs actual figures from the behavior artifact, when the case wrote one. */
function evidence(reportCase: ReportCase): string | null {
  const parts: string[] = [];
  if (reportCase.expected_row_count !== null && reportCase.actual_row_count !== null) {
    parts.push(`rows expected ${formatCount(reportCase.expected_row_count)}, actual ${formatCount(reportCase.actual_row_count)}`);
  }
  if (reportCase.expected_checksum !== null && reportCase.actual_checksum !== null) {
    parts.push(`checksum expected ${reportCase.expected_checksum}, actual ${reportCase.actual_checksum}`);
  }
  return parts.length ? parts.join('; ') : null;
}

/** The middle value of a non-empty list (the lower middle for an even count). */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}

/** Service-backed modes: the loads' figures, overall and per case (slowest first); null otherwise. */
function performanceView(cases: readonly ReportCase[]) {
  const measured = cases.flatMap((reportCase) => (reportCase.performance ? [{ reportCase, performance: reportCase.performance }] : []));
  if (measured.length === 0) return null;
  const slowest = [...measured].sort((a, b) => b.performance.duration_seconds - a.performance.duration_seconds || compareIds(a.reportCase, b.reportCase));
  const [first] = slowest;
  return {
    count: formatCases(measured.length),
    medianRate: formatCount(median(measured.map(({ performance }) => performance.throughput_rows_per_second))),
    slowestCase: first?.reportCase.case_id ?? '',
    slowestSeconds: (first?.performance.duration_seconds ?? 0).toFixed(1),
    peakMemory: formatCount(Math.max(...measured.map(({ performance }) => performance.memory_peak_mb))),
    cases: slowest.map(({ reportCase, performance }) => ({
      caseId: reportCase.case_id,
      provider: reportCase.provider,
      rows: formatCount(performance.rows),
      rate: formatCount(performance.throughput_rows_per_second),
      duration: `${performance.duration_seconds.toFixed(1)} s`,
      memory: formatCount(performance.memory_peak_mb),
    })),
  };
}

function compareIds(a: ReportCase, b: ReportCase): number {
  return a.case_id < b.case_id ? -1 : a.case_id > b.case_id ? 1 : 0;
}

/**
 * `summary.md` for a release manager: verdict and counts, run facts, red cases with their first
 * failure and behavior artifact, skips by reason, waivers, load figures of service-backed runs,
 * counts by strategy and by source × sink,
 * and every case folded into a `<details>` block. Deterministic for the same run.
 */
export function renderMarkdownSummary(summary: RunSummary): string {
  const report = buildCertificationReport(summary);
  const headline = runHeadline(report);
  const failedCases = report.cases.filter((reportCase) => reportCase.status === 'failed');
  return renderTemplate('summary.md.hbs', {
    headline,
    runMode: report.run_mode,
    provider: report.provider,
    startedAt: report.started_at,
    finishedAt: report.generated_at,
    artifactDir: summary.artifactDir,
    redCases: failedCases.map((reportCase) => ({
      caseId: reportCase.case_id,
      failure: reportCase.failure ?? 'no failure message recorded',
      evidence: evidence(reportCase),
    })),
    skips: Object.entries(report.skips).map(([reason, ids]) => ({ reason, count: ids.length, ids })),
    waivers: report.waivers,
    performance: performanceView(report.cases),
    strategies: Object.entries(report.by_strategy).map(([strategy, counts]) => ({ strategy, ...counts, failed: failedCell(counts.failed) })),
    total: { ...report.totals, failed: failedCell(report.totals.failed) },
    sinkLabels: SINK_FAMILIES.map((sink) => sink.label),
    pairs: SOURCE_FAMILIES.map((source) => ({
      label: source.label,
      cells: SINK_FAMILIES.map((sink) => pairCell(countStatuses(
        report.cases.filter((reportCase) => reportCase.source === source.name && reportCase.sink === sink.name),
      ))),
    })),
    allCases: `All ${formatCases(report.cases.length)}`,
    cases: report.cases.map((reportCase) => ({
      ...reportCase,
      status: reportCase.status === 'failed' ? '**failed**' : reportCase.status,
      duration: formatDuration(reportCase.duration_ms),
    })),
  });
}
