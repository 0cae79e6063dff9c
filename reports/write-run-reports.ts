import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunSummary } from '../matrix/results.ts';
import { buildCertificationReport } from './certification-report.ts';
import { renderMarkdownSummary } from './markdown-summary.ts';
import { renderMatrixHtml, renderMatrixSvg } from './matrix-grid.ts';

/** File names a matrix run writes its reports under; summary.md links to the others by these names. */
export const RUN_REPORT_FILES = {
  certificationReport: 'certification_report.json',
  summary: 'summary.md',
  svg: 'matrix.svg',
  html: 'matrix.html',
} as const;

/**
 * Writes certification_report.json (2-space JSON, trailing newline), summary.md, matrix.svg and
 * matrix.html into `dir`, creating it (and its parents) when missing. Existing files are
 * overwritten. Returns the paths written, in that order.
 */
export async function writeRunReports(summary: RunSummary, dir: string): Promise<string[]> {
  const contents: readonly (readonly [string, string])[] = [
    [RUN_REPORT_FILES.certificationReport, `${JSON.stringify(buildCertificationReport(summary), null, 2)}\n`],
    [RUN_REPORT_FILES.summary, renderMarkdownSummary(summary)],
    [RUN_REPORT_FILES.svg, renderMatrixSvg(summary)],
    [RUN_REPORT_FILES.html, renderMatrixHtml(summary)],
  ];
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const [name, text] of contents) {
    const path = join(dir, name);
    await writeFile(path, text, 'utf8');
    paths.push(path);
  }
  return paths;
}
