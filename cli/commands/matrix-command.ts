import { isAbsolute, join, relative, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { UsageError } from '../../engine/usage-error.ts';
import { resolveProfile } from '../../fixtures/volume-profile.ts';
import { ARTIFACT_DIR_ENV, defaultArtifactDir } from '../../matrix/artifacts.ts';
import { parseWaivers, WAIVE_ENV } from '../../matrix/local/run-services.ts';
import { RUN_MODE_ENV } from '../../matrix/matrix-env.ts';
import { PROVIDED_SERVICES } from '../../fixtures/services/provider.ts';
import type { RunMode } from '../../matrix/registry.ts';
import { RUN_MODES } from '../../matrix/registry.ts';
import { isRunMode, MODE_DEFAULT_PROFILES } from '../../matrix/run-modes.ts';
import type { PlannedCase } from '../../matrix/runner/run-matrix.ts';
import { planMatrixRun, runMatrix } from '../../matrix/runner/run-matrix.ts';
import type { CaseSelection } from '../../matrix/selection.ts';
import { parseShard, SELECTION_ENV, splitList, validateSelection } from '../../matrix/selection.ts';
import type { CertificationReport } from '../../reports/index.ts';
import { buildCertificationReport, renderMarkdownSummary } from '../../reports/index.ts';
import { formatTable } from '../format-table.ts';

export const OUTPUT_FORMATS = ['text', 'json', 'md'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

interface MatrixFlags {
  readonly mode?: string;
  readonly case?: string;
  readonly source?: string;
  readonly sink?: string;
  readonly strategy?: string;
  readonly rows?: string;
  readonly changeRatio?: string;
  readonly deleteRatio?: string;
  readonly artifactDir?: string;
  readonly shard?: string;
  readonly format: string;
  readonly list?: boolean;
  readonly waive?: string;
}

/** Flags win over env variables, field by field. */
function resolveSelection(flags: MatrixFlags, env: NodeJS.ProcessEnv): CaseSelection {
  const shardText = flags.shard ?? env[SELECTION_ENV.shard];
  const selection: CaseSelection = {
    caseIds: splitList(flags.case ?? env[SELECTION_ENV.caseIds]),
    sources: splitList(flags.source ?? env[SELECTION_ENV.sources]),
    sinks: splitList(flags.sink ?? env[SELECTION_ENV.sinks]),
    strategies: splitList(flags.strategy ?? env[SELECTION_ENV.strategies]),
    shard: shardText ? parseShard(shardText, flags.shard ? '--shard' : SELECTION_ENV.shard) : undefined,
  };
  const source = (flag: string | undefined, cli: string, env: string) => (flag === undefined ? env : cli);
  validateSelection(selection, {
    caseIds: source(flags.case, '--case', SELECTION_ENV.caseIds),
    sources: source(flags.source, '--source', SELECTION_ENV.sources),
    sinks: source(flags.sink, '--sink', SELECTION_ENV.sinks),
    strategies: source(flags.strategy, '--strategy', SELECTION_ENV.strategies),
  });
  return selection;
}

function resolveMode(flags: MatrixFlags, env: NodeJS.ProcessEnv): RunMode {
  const mode = flags.mode ?? env[RUN_MODE_ENV] ?? 'mock_contract';
  if (!isRunMode(mode)) throw new UsageError(flags.mode ? '--mode' : RUN_MODE_ENV, `unknown run mode "${mode}" (known: ${RUN_MODES.join(', ')})`);
  return mode;
}

function resolveFormat(flags: MatrixFlags): OutputFormat {
  const format = OUTPUT_FORMATS.find((candidate) => candidate === flags.format);
  if (!format) throw new UsageError('--format', `must be one of ${OUTPUT_FORMATS.join(', ')}, got "${flags.format}"`);
  return format;
}

function printPlan(mode: RunMode, plan: readonly PlannedCase[], format: OutputFormat): void {
  const rows = plan.map(({ matrixCase, disposition }) => ({
    case_id: matrixCase.id,
    action: disposition.action,
    reason: disposition.action === 'skip' ? disposition.reason : null,
  }));
  const running = rows.filter((row) => row.action === 'run').length;
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify({ run_mode: mode, cases: rows.length, run: running, skip: rows.length - running, plan: rows }, null, 2)}\n`);
    return;
  }
  const lines = rows.map((row) => (format === 'md'
    ? `| \`${row.case_id}\` | ${row.action} | ${row.reason ?? ''} |`
    : `${row.action === 'run' ? 'run ' : 'skip'}  ${row.case_id}${row.reason ? `  (${row.reason})` : ''}`));
  if (format === 'md') lines.unshift('| case | action | reason |', '|---|---|---|');
  lines.push('', `${mode}: ${rows.length} cases selected, ${running} run, ${rows.length - running} skipped`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

function textSummary(report: CertificationReport, artifactDir: string): string {
  const rows = Object.entries(report.by_strategy)
    .filter(([, counts]) => counts.cases > 0)
    .map(([strategy, counts]) => [strategy, counts.cases, counts.passed, counts.failed, counts.skipped]);
  const { totals } = report;
  rows.push(['total', totals.cases, totals.passed, totals.failed, totals.skipped]);
  const shownDir = isAbsolute(artifactDir) ? relative(process.cwd(), artifactDir) || '.' : artifactDir;
  const profile = `${report.profile.rows.toLocaleString('en-US')} rows, ${report.profile.change_ratio * 100}% changed, ${report.profile.delete_ratio * 100}% deleted`;
  return [
    `dpone matrix · ${report.run_mode} · ${profile} · ${(report.wall_ms / 1000).toFixed(1)} s`,
    '',
    formatTable(['strategy', 'cases', 'passed', 'failed', 'skipped'], rows),
    '',
    ...groupedBlockers(report.blockers).slice(0, 20).map((blocker) => `red: ${blocker}`),
    ...report.waivers.map((waiver) => `waived: ${waiver.family} — ${waiver.reason}`),
    `verdict: ${report.status.toUpperCase()} — artifacts in ${shownDir}/ (summary.md, matrix.html, matrix.svg, certification_report.json, junit.xml)`,
    `matrix: ${totals.tests_passed} passed, ${totals.tests_failed + totals.tests_not_run} failed, ${totals.tests_skipped} skipped`,
  ].join('\n');
}

/** Blockers with the same reason (e.g. one missing service behind many cases) shown once, with the count. */
function groupedBlockers(blockers: readonly string[]): string[] {
  const byReason = new Map<string, string[]>();
  for (const blocker of blockers) {
    const separator = blocker.indexOf(': ');
    const [caseId, reason] = separator < 0 ? ['', blocker] : [blocker.slice(0, separator), blocker.slice(separator + 2)];
    byReason.set(reason, [...(byReason.get(reason) ?? []), caseId]);
  }
  return [...byReason].map(([reason, cases]) => (cases.length === 1 ? `${cases[0]}: ${reason}` : `${cases.length} cases (${cases[0]}, …): ${reason}`));
}

/** `dpone matrix`: runs (or with --list, plans) the canonical matrix. Exit 0 green, 1 red, 2 bad input. */
export function matrixCommand(): Command {
  return new Command('matrix')
    .description('run the source → sink → strategy matrix and write its artifacts')
    .addOption(new Option('--mode <mode>', `run mode (${RUN_MODES.join(', ')}); env ${RUN_MODE_ENV}`))
    .option('--case <ids>', `case id(s), comma-separated; env ${SELECTION_ENV.caseIds}`)
    .option('--source <families>', `source families, comma-separated; env ${SELECTION_ENV.sources}`)
    .option('--sink <families>', `sink families, comma-separated; env ${SELECTION_ENV.sinks}`)
    .option('--strategy <names>', `strategies, comma-separated; env ${SELECTION_ENV.strategies}`)
    .option('--rows <n>', 'rows per case, 1–100,000 (default 10,000; mock_local 2,000; real_local 25,000); env DPONE_MATRIX_ROW_COUNT')
    .option('--change-ratio <r>', 'share of rows the delta changes, 0–1 (default 0.2); env DPONE_MATRIX_CHANGE_RATIO')
    .option('--delete-ratio <r>', 'share of rows the delta deletes, 0–change ratio (default 0.05); env DPONE_MATRIX_DELETE_RATIO')
    .option('--artifact-dir <dir>', `where artifacts go (default test_artifacts/matrix/<mode>); env ${ARTIFACT_DIR_ENV}`)
    .option('--shard <i/n>', `run the i-th of n interleaved shards; env ${SELECTION_ENV.shard}`)
    .option('--format <format>', 'final output: text, json (certification report) or md (summary)', 'text')
    .option('--list', 'print which cases the mode runs or skips, and why, without running')
    .option('--waive <services>', `real_local: services whose absence is accepted (${PROVIDED_SERVICES.join(', ')}), recorded in the reports; env ${WAIVE_ENV}`)
    .action(async (flags: MatrixFlags) => {
      const env = process.env;
      const mode = resolveMode(flags, env);
      const format = resolveFormat(flags);
      const selection = resolveSelection(flags, env);
      const profile = resolveProfile({ rows: flags.rows, changeRatio: flags.changeRatio, deleteRatio: flags.deleteRatio }, env, MODE_DEFAULT_PROFILES[mode]);
      if (flags.list) {
        printPlan(mode, planMatrixRun(mode, selection), format);
        return;
      }
      const artifactDir = resolve(flags.artifactDir ?? (env[ARTIFACT_DIR_ENV] || join(process.cwd(), defaultArtifactDir(mode))));
      const interactive = Boolean(process.stderr.isTTY) && !env.CI;
      const waivers = parseWaivers(flags.waive ?? env[WAIVE_ENV], flags.waive === undefined ? WAIVE_ENV : '--waive');
      const { summary } = await runMatrix({ mode, selection, profile, artifactDir, waivers, progress: { stream: process.stderr, interactive } });
      const report = buildCertificationReport(summary);
      const output = format === 'json' ? JSON.stringify(report, null, 2)
        : format === 'md' ? renderMarkdownSummary(summary) : textSummary(report, artifactDir);
      process.stdout.write(`${output}\n`);
      process.exitCode = report.status === 'green' ? 0 : 1;
    });
}
