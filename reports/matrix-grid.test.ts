import { describe, expect, it } from 'vitest';
import { STRATEGY_NAMES } from '../engine/strategies/index.ts';
import { SINK_FAMILIES, SOURCE_FAMILIES } from '../matrix/families.ts';
import { caseId, MATRIX } from '../matrix/registry.ts';
import { buildCertificationReport } from './certification-report.ts';
import { buildMatrixGrids, renderMatrixHtml, renderMatrixSvg } from './matrix-grid.ts';
import { sampleRunSummary } from './sample-run-summary.ts';

const FAILED = ['postgres_to_mssql__scd2', 'kafka_to_kafka__incremental_append'];
const NOT_SELECTED = 'rest_api_to_clickhouse__backfill';
const HOSTILE_FAILURE = '\u001b[31mexpected <row key="7"> & \'quoted\'\u001b[39m\nsecond line';
const summary = sampleRunSummary({ failed: FAILED, notSelected: [NOT_SELECTED], failure: HOSTILE_FAILURE });
const inMatrix = new Set(MATRIX.map((matrixCase) => matrixCase.id));

interface SvgCell { state: string; source: string; sink: string; strategy: string; title: string }

function svgCells(svg: string): SvgCell[] {
  const pattern = /<g class="cell ([a-z-]+)" data-source="([^"]+)" data-sink="([^"]+)" data-strategy="([^"]+)">\s*<title>([^<]*)<\/title>/g;
  return [...svg.matchAll(pattern)].map(([, state = '', source = '', sink = '', strategy = '', title = '']) => ({ state, source, sink, strategy, title }));
}

/** Enough of an XML check for generated markup: tags nest and close, every `&` starts an entity. */
function expectWellFormed(markup: string): void {
  const stack: string[] = [];
  for (const [, closing, name = '', selfClosing] of markup.matchAll(/<(\/?)([a-zA-Z][\w:-]*)(?:\s[^<>]*?)?(\/?)>/g)) {
    if (selfClosing) continue;
    if (closing) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else stack.push(name);
  }
  expect(stack).toEqual([]);
  expect(markup).not.toMatch(/&(?!(?:amp|lt|gt|quot|#x?[0-9a-fA-F]+);)/);
  // Control characters are not allowed in XML 1.0, not even as references.
  // eslint-disable-next-line no-control-regex -- looking for control characters is the point
  expect(markup).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
}

describe('buildMatrixGrids', () => {
  it('has one grid per strategy and a cell for every source × sink pair', () => {
    const grids = buildMatrixGrids(buildCertificationReport(summary));
    expect(grids.map((grid) => grid.strategy)).toEqual([...STRATEGY_NAMES]);
    for (const grid of grids) {
      expect(grid.rows.map((row) => row.label)).toEqual(SOURCE_FAMILIES.map((family) => family.label));
      for (const row of grid.rows) expect(row.cells.map((cell) => cell.sink)).toEqual(SINK_FAMILIES.map((family) => family.name));
    }
    const backfill = grids.find((grid) => grid.strategy === 'backfill');
    expect(backfill?.caption).toBe('19 of 20 cases run · 14 passed · 5 skipped');
  });
});

describe('renderMatrixSvg', () => {
  const svg = renderMatrixSvg(summary);
  const cells = svgCells(svg);

  it('is a standalone, well-formed SVG', () => {
    expect(svg.startsWith('<svg ')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expectWellFormed(svg);
  });

  it('draws 10 grids × 25 cells, each (source, sink, strategy) once', () => {
    expect(cells).toHaveLength(STRATEGY_NAMES.length * SOURCE_FAMILIES.length * SINK_FAMILIES.length);
    expect(new Set(cells.map((cell) => caseId(cell.source, cell.sink, cell.strategy))).size).toBe(250);
    expect(svg.match(/<g class="grid" /g)).toHaveLength(10);
  });

  it('marks n/a exactly where the matrix has no case', () => {
    const notSupported = cells.filter((cell) => cell.state === 'not-supported');
    expect(notSupported).toHaveLength(250 - MATRIX.length);
    for (const cell of cells) {
      expect(cell.state === 'not-supported').toBe(!inMatrix.has(caseId(cell.source, cell.sink, cell.strategy)));
    }
    const kafkaScd2 = cells.filter((cell) => cell.sink === 'kafka' && cell.strategy === 'scd2');
    expect(kafkaScd2.map((cell) => cell.state)).toEqual(Array(5).fill('not-supported'));
    expect(kafkaScd2[0]?.title).toBe('PostgreSQL → Kafka × scd2: not supported, the matrix has no such case');
  });

  it('colours each case by its verdict, with the reason or failure in the tooltip', () => {
    const byId = new Map(cells.map((cell) => [caseId(cell.source, cell.sink, cell.strategy), cell]));
    expect(cells.filter((cell) => cell.state === 'failed').map((cell) => caseId(cell.source, cell.sink, cell.strategy)).sort()).toEqual([...FAILED].sort());
    expect(byId.get('postgres_to_mssql__scd2')?.title)
      .toBe('postgres_to_mssql__scd2 — failed: expected &lt;row key&#x3D;&quot;7&quot;&gt; &amp; &#x27;quoted&#x27; second line');
    expect(cells.filter((cell) => cell.state === 'skipped').every((cell) => cell.sink === 'bigquery')).toBe(true);
    expect(cells.filter((cell) => cell.state === 'skipped')).toHaveLength(43);
    expect(byId.get('kafka_to_bigquery__replace')?.title).toMatch(/^kafka_to_bigquery__replace — skipped: BigQuery is a managed service/);
    expect(byId.get(NOT_SELECTED)).toMatchObject({ state: 'not-selected', title: `${NOT_SELECTED} — not selected in this run` });
    expect(byId.get('mssql_to_postgres__cdc')?.state).toBe('passed');
  });

  it('has a header with the verdict and counts, and a legend of every state', () => {
    expect(svg).toContain('>RED</text>');
    expect(svg).toContain('154 passed · 2 failed · 43 skipped of 199 cases · 1 matrix case not selected');
    for (const state of ['passed', 'failed', 'skipped', 'not-supported', 'not-selected']) expect(svg).toContain(`<g class="legend ${state}">`);
    expect(renderMatrixSvg(sampleRunSummary())).toContain('>GREEN</text>');
  });

  it('renders the same bytes twice', () => {
    expect(renderMatrixSvg(sampleRunSummary({ failed: FAILED, notSelected: [NOT_SELECTED], failure: HOSTILE_FAILURE }))).toBe(svg);
  });
});

describe('renderMatrixHtml', () => {
  const html = renderMatrixHtml(summary);

  it('is a self-contained page without scripts or external resources', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/(?:src|href)="?(?:https?:)?\/\//i);
    expect(html).not.toMatch(/<script|<link|<iframe|<img|@import|url\(/i);
    expectWellFormed(html.replace(/^<!doctype html>/, '').replace(/<meta [^>]*>/g, ''));
  });

  it('has the headline, a table per strategy and a titled cell for every pair', () => {
    expect(html).toContain('<span class="badge red">RED</span>');
    expect(html.match(/<table class="grid" /g)).toHaveLength(10);
    const tds = [...html.matchAll(/<td class="([a-z-]+)" title="([^"]*)">/g)].map(([, state = '', title = '']) => ({ state, title }));
    expect(tds).toHaveLength(250);
    expect(tds.filter((td) => td.state === 'not-supported')).toHaveLength(50);
    expect(tds.filter((td) => td.state === 'failed').map((td) => td.title.split(' — ')[0]).sort()).toEqual([...FAILED].sort());
    expect(tds.filter((td) => td.state === 'not-selected').map((td) => td.title)).toEqual([`${NOT_SELECTED} — not selected in this run`]);
  });

  it('lists blockers, skips and the per-strategy counts', () => {
    expect(html).toContain('<li>postgres_to_mssql__scd2: expected &lt;row key');
    expect(html).toMatch(/<li><strong>43<\/strong> skipped: BigQuery is a managed service/);
    expect(html).toContain('<tr><td><code>scd2</code></td><td>20</td><td>14</td><td class="red">1</td><td>5</td></tr>');
  });

  it('renders the same bytes twice', () => {
    expect(renderMatrixHtml(sampleRunSummary({ failed: FAILED, notSelected: [NOT_SELECTED], failure: HOSTILE_FAILURE }))).toBe(html);
  });
});
