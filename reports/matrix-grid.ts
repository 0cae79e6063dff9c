import { STRATEGY_NAMES } from '../engine/strategies/index.ts';
import type { SinkFamily, SourceFamily } from '../matrix/families.ts';
import { SINK_FAMILIES, SOURCE_FAMILIES } from '../matrix/families.ts';
import { caseId, MATRIX } from '../matrix/registry.ts';
import type { RunSummary } from '../matrix/results.ts';
import type { CertificationReport, ReportCase, StatusCounts } from './certification-report.ts';
import { buildCertificationReport, MISSING_SKIP_REASON } from './certification-report.ts';
import { renderTemplate } from './render-template.ts';
import type { RunHeadline } from './run-headline.ts';
import { formatCases, formatDuration, runHeadline } from './run-headline.ts';

/**
 * What a grid cell shows. `not-supported`: the matrix has no case for that (source, sink,
 * strategy); `not-selected`: it has one, but this run did not include it. The values double as
 * CSS classes in the SVG and the HTML.
 */
export type CellState = 'passed' | 'failed' | 'skipped' | 'not-supported' | 'not-selected';

export interface GridCell {
  readonly source: string;
  readonly sink: string;
  readonly strategy: string;
  readonly state: CellState;
  /** Null only for `not-supported` cells. */
  readonly caseId: string | null;
  /** Case id, verdict and the skip reason or first failure. */
  readonly tooltip: string;
  /** Short glyph drawn in the cell, so the verdict does not depend on colour alone. */
  readonly mark: string;
}

export interface GridRow {
  readonly source: string;
  readonly label: string;
  readonly cells: readonly GridCell[];
}

/** One strategy: rows are source families, columns sink families, both in canonical order. */
export interface StrategyGrid {
  readonly strategy: string;
  readonly counts: StatusCounts;
  /** `25 cases · 20 passed · 5 skipped`. */
  readonly caption: string;
  readonly rows: readonly GridRow[];
}

// Every state's legend text and the glyph drawn in its cells; the record is exhaustive, so a new
// state does not compile until it has both. Key order is the legend's order.
const CELL_STATES: Readonly<Record<CellState, { readonly label: string; readonly mark: string }>> = {
  passed: { label: 'passed', mark: '✓' },
  failed: { label: 'failed', mark: '✗' },
  skipped: { label: 'skipped (reason in tooltip)', mark: 'skip' },
  'not-supported': { label: 'n/a: no such case in the matrix', mark: 'n/a' },
  'not-selected': { label: 'not selected in this run', mark: '' },
};

const LEGEND = Object.entries(CELL_STATES).map(([state, entry]) => ({ state, ...entry }));

function cellFor(source: SourceFamily, sink: SinkFamily, strategy: string, byId: ReadonlyMap<string, ReportCase>): GridCell {
  const id = caseId(source.name, sink.name, strategy);
  const reportCase = byId.get(id);
  const cell = (state: CellState, tooltip: string, idOrNull: string | null = id): GridCell =>
    ({ source: source.name, sink: sink.name, strategy, state, caseId: idOrNull, tooltip, mark: CELL_STATES[state].mark });
  if (reportCase?.status === 'passed') return cell('passed', `${id} — passed in ${formatDuration(reportCase.duration_ms)}`);
  if (reportCase?.status === 'failed') return cell('failed', `${id} — failed: ${reportCase.failure ?? 'no failure message recorded'}`);
  if (reportCase?.status === 'skipped') return cell('skipped', `${id} — skipped: ${reportCase.skip_reason ?? MISSING_SKIP_REASON}`);
  if (MATRIX.some((matrixCase) => matrixCase.id === id)) return cell('not-selected', `${id} — not selected in this run`);
  return cell('not-supported', `${source.label} → ${sink.label} × ${strategy}: not supported, the matrix has no such case`, null);
}

function gridCaption(strategy: string, counts: StatusCounts): string {
  const inMatrix = MATRIX.filter((matrixCase) => matrixCase.strategy === strategy).length;
  const parts = [counts.cases === inMatrix ? formatCases(counts.cases) : `${counts.cases} of ${formatCases(inMatrix)} run`, `${counts.passed} passed`];
  if (counts.failed) parts.push(`${counts.failed} failed`);
  if (counts.skipped) parts.push(`${counts.skipped} skipped`);
  return parts.join(' · ');
}

/** One source × sink grid per strategy, in STRATEGY_NAMES order; every (source, sink) pair has a cell. */
export function buildMatrixGrids(report: CertificationReport): StrategyGrid[] {
  const byId = new Map(report.cases.map((reportCase) => [reportCase.case_id, reportCase]));
  return STRATEGY_NAMES.map((strategy) => {
    const counts = report.by_strategy[strategy] ?? { cases: 0, passed: 0, failed: 0, skipped: 0 };
    return {
      strategy,
      counts,
      caption: gridCaption(strategy, counts),
      rows: SOURCE_FAMILIES.map((source) => ({
        source: source.name,
        label: source.label,
        cells: SINK_FAMILIES.map((sink) => cellFor(source, sink, strategy, byId)),
      })),
    };
  });
}

/** Everything the SVG and HTML share: headline, the run line, the legend and the grids. */
function gridPageView(summary: RunSummary): { report: CertificationReport; headline: RunHeadline; runLine: string; grids: StrategyGrid[] } {
  const report = buildCertificationReport(summary);
  const headline = runHeadline(report);
  return { report, headline, runLine: `${headline.run} · finished ${report.generated_at}`, grids: buildMatrixGrids(report) };
}

// SVG geometry, in px. Column labels are rotated 45° so a cell can stay narrow; they reach past
// the last column by up to COLUMN_LABEL_OVERHANG, which the pitch and the page width leave room for.
const MARGIN = 24;
// Badge, run line and legend: the header group in matrix.svg.hbs is laid out within this height.
const HEADER_HEIGHT = 104;
const GRIDS_PER_ROW = 5;
const LABEL_WIDTH = 76;
const CELL_WIDTH = 34;
const CELL_HEIGHT = 24;
const CELL_GAP = 3;
const TITLE_HEIGHT = 36;
const COLUMN_LABEL_HEIGHT = 58;
const COLUMN_LABEL_OVERHANG = 32;
const GRID_SPACING_X = 16;
const GRID_SPACING_Y = 28;
const LEGEND_SWATCH = 14;
// Average glyph width of the 11 px legend font: enough to space legend entries without measuring text.
const LEGEND_CHAR_WIDTH = 6.2;

function svgView(summary: RunSummary): object {
  const { headline, runLine, grids } = gridPageView(summary);
  const pitch = CELL_WIDTH + CELL_GAP;
  const cellsTop = TITLE_HEIGHT + COLUMN_LABEL_HEIGHT;
  const gridWidth = LABEL_WIDTH + SINK_FAMILIES.length * pitch - CELL_GAP;
  const gridHeight = cellsTop + SOURCE_FAMILIES.length * (CELL_HEIGHT + CELL_GAP) - CELL_GAP;
  const pitchX = gridWidth + COLUMN_LABEL_OVERHANG + GRID_SPACING_X;
  const pitchY = gridHeight + GRID_SPACING_Y;
  const gridRows = Math.ceil(grids.length / GRIDS_PER_ROW);
  const gridsTop = MARGIN + HEADER_HEIGHT;

  let legendX = 0;
  const legend = LEGEND.map((entry) => {
    const item = { ...entry, x: legendX, textX: legendX + LEGEND_SWATCH + 6 };
    legendX = item.textX + Math.ceil(entry.label.length * LEGEND_CHAR_WIDTH) + 24;
    return item;
  });

  return {
    width: MARGIN * 2 + (GRIDS_PER_ROW - 1) * pitchX + gridWidth + COLUMN_LABEL_OVERHANG,
    height: gridsTop + (gridRows - 1) * pitchY + gridHeight + MARGIN,
    margin: MARGIN,
    verdict: headline.verdict,
    verdictClass: headline.verdict.toLowerCase(),
    counts: headline.counts,
    runLine,
    legend,
    grids: grids.map((grid, index) => ({
      ...grid,
      x: MARGIN + (index % GRIDS_PER_ROW) * pitchX,
      y: gridsTop + Math.floor(index / GRIDS_PER_ROW) * pitchY,
      red: grid.counts.failed > 0,
      cornerX: LABEL_WIDTH - 6,
      cornerY: cellsTop - 6,
      columns: SINK_FAMILIES.map((sink, column) => ({
        label: sink.label,
        x: LABEL_WIDTH + column * pitch + CELL_WIDTH / 2,
        y: cellsTop - 6,
      })),
      rows: grid.rows.map((row, rowIndex) => {
        const y = cellsTop + rowIndex * (CELL_HEIGHT + CELL_GAP);
        // Baseline a little below the middle: roughly centres 10-13 px glyphs without relying on
        // dominant-baseline, which not every SVG renderer honours.
        const textY = y + CELL_HEIGHT / 2 + 4;
        return {
          label: row.label,
          labelX: LABEL_WIDTH - 8,
          textY,
          cells: row.cells.map((cell, column) => ({
            ...cell,
            x: LABEL_WIDTH + column * pitch,
            y,
            textX: LABEL_WIDTH + column * pitch + CELL_WIDTH / 2,
            textY,
          })),
        };
      }),
    })),
    cellWidth: CELL_WIDTH,
    cellHeight: CELL_HEIGHT,
  };
}

/**
 * `matrix.svg`: a standalone SVG with one source × sink grid per strategy (five per row), each
 * cell coloured by verdict with a tooltip, under a header line and a legend. Deterministic.
 */
export function renderMatrixSvg(summary: RunSummary): string {
  return renderTemplate('matrix.svg.hbs', svgView(summary));
}

/**
 * `matrix.html`: a self-contained page (inline CSS, no scripts, no external resources) with the
 * headline, legend, counts per strategy, red cases, skips, waivers and the grids as tables.
 */
export function renderMatrixHtml(summary: RunSummary): string {
  const { report, headline, runLine, grids } = gridPageView(summary);
  return renderTemplate('matrix.html.hbs', {
    verdict: headline.verdict,
    verdictClass: headline.verdict.toLowerCase(),
    counts: headline.counts,
    runLine,
    tests: headline.tests,
    legend: LEGEND,
    columns: SINK_FAMILIES.map((sink) => sink.label),
    strategies: grids.map((grid) => ({ strategy: grid.strategy, ...grid.counts })),
    blockers: report.blockers,
    skips: Object.entries(report.skips).map(([reason, ids]) => ({ reason, count: ids.length })),
    waivers: report.waivers,
    grids: grids.map((grid) => ({ ...grid, red: grid.counts.failed > 0 })),
  });
}
