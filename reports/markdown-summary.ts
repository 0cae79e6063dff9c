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

/**
 * `summary.md` for a release manager: verdict and counts, run facts, red cases with their first
 * failure and behavior artifact, skips by reason, waivers, counts by strategy and by source × sink,
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
