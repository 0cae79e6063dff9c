export type { CertificationReport, ReportCase, ReportTotals, StatusCounts } from './certification-report.ts';
export { buildCertificationReport, CERTIFICATION_REPORT_SCHEMA } from './certification-report.ts';
export { renderMarkdownSummary } from './markdown-summary.ts';
export type { CellState, GridCell, GridRow, StrategyGrid } from './matrix-grid.ts';
export { buildMatrixGrids, renderMatrixHtml, renderMatrixSvg } from './matrix-grid.ts';
export type { RunHeadline } from './run-headline.ts';
export { runHeadline } from './run-headline.ts';
export { RUN_REPORT_FILES, writeRunReports } from './write-run-reports.ts';
