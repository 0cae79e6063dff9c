import type { CertificationReport } from './certification-report.ts';

/** The lines every report opens with: verdict, case counts, and how the run was made. */
export interface RunHeadline {
  readonly verdict: 'GREEN' | 'RED';
  /** `155 passed · 2 failed · 43 skipped of 200 cases`, plus unselected matrix cases when any. */
  readonly counts: string;
  /** `312 passed · 2 failed · 86 skipped · 0 not run` (contract and behavior tests). */
  readonly tests: string;
  /** `10,000 rows, 20% changed, 5% deleted`. */
  readonly profile: string;
  /** Wall time of the run, `1 min 23 s`. */
  readonly wall: string;
  /** `mock_local · provider memory · <profile> · wall <wall>`. */
  readonly run: string;
}

// A fixed locale: report text must not change with the machine that renders it.
const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Integer with thousands separators (`10,000`), the same on every machine. */
export function formatCount(value: number): string {
  return integer.format(value);
}

/** `1 case`, `2,000 cases`: count with thousands separators and a plural `s` when it is not 1. */
export function formatCases(count: number, noun = 'case'): string {
  return `${formatCount(count)} ${noun}${count === 1 ? '' : 's'}`;
}

/** `850 ms`, `12.3 s`, `4 min 05 s`, `1 h 02 min`. */
export function formatDuration(ms: number): string {
  if (ms < 999.5) return `${Math.round(ms)} ms`;
  // Round before choosing the unit so 59.96 s reads `1 min 00 s`, not `60.0 s`.
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`;
  const seconds = Math.round(ms / 1_000);
  const pad = (value: number) => String(value).padStart(2, '0');
  if (seconds < 3_600) return `${Math.floor(seconds / 60)} min ${pad(seconds % 60)} s`;
  return `${Math.floor(seconds / 3_600)} h ${pad(Math.floor(seconds / 60) % 60)} min`;
}

function formatRatio(ratio: number): string {
  return `${Number((ratio * 100).toFixed(2))}%`;
}

/** Verdict and one-line descriptions of the counts and the run, shared by the Markdown, SVG and HTML. */
export function runHeadline(report: CertificationReport): RunHeadline {
  const { totals, profile } = report;
  const notSelected = totals.not_selected ? ` · ${formatCases(totals.not_selected, 'matrix case')} not selected` : '';
  const profileText = `${formatCount(profile.rows)} rows, ${formatRatio(profile.change_ratio)} changed, ${formatRatio(profile.delete_ratio)} deleted`;
  const wall = formatDuration(report.wall_ms);
  return {
    verdict: report.status === 'red' ? 'RED' : 'GREEN',
    counts: `${formatCount(totals.passed)} passed · ${formatCount(totals.failed)} failed · ${formatCount(totals.skipped)} skipped`
      + ` of ${formatCases(totals.cases)}${notSelected}`,
    tests: `${formatCount(totals.tests_passed)} passed · ${formatCount(totals.tests_failed)} failed`
      + ` · ${formatCount(totals.tests_skipped)} skipped · ${formatCount(totals.tests_not_run)} not run`,
    profile: profileText,
    wall,
    run: `${report.run_mode} · provider ${report.provider} · ${profileText} · wall ${wall}`,
  };
}
