import { describe, expect, it } from 'vitest';
import { sinkFamily, sourceFamily } from './families.ts';
import type { MatrixCase, RunMode } from './registry.ts';
import { MATRIX, RUN_MODES } from './registry.ts';
import type { CaseDisposition } from './run-modes.ts';
import { dispositionFor, isRunMode, RUN_MODE_INFO } from './run-modes.ts';

function plan(mode: RunMode): { run: MatrixCase[]; skip: { matrixCase: MatrixCase; reason: string }[] } {
  const run: MatrixCase[] = [];
  const skip: { matrixCase: MatrixCase; reason: string }[] = [];
  for (const matrixCase of MATRIX) {
    const disposition: CaseDisposition = dispositionFor(matrixCase, mode);
    if (disposition.action === 'run') run.push(matrixCase);
    else skip.push({ matrixCase, reason: disposition.reason });
  }
  return { run, skip };
}

describe('run modes', () => {
  it('are the four modes of DESIGN §3', () => {
    expect(RUN_MODES).toEqual(['mock_contract', 'mock_local', 'real_local', 'vendor_live']);
    expect(isRunMode('mock_local')).toBe(true);
    expect(isRunMode('mock')).toBe(false);
    for (const mode of RUN_MODES) expect(RUN_MODE_INFO[mode].mode).toBe(mode);
    expect(RUN_MODES.filter((mode) => RUN_MODE_INFO[mode].credentials)).toEqual(['vendor_live']);
  });

  it('mock_contract runs all 200 cases', () => {
    const { run, skip } = plan('mock_contract');
    expect(run).toHaveLength(200);
    expect(skip).toEqual([]);
  });

  it.each(['mock_local', 'real_local'] as const)('%s runs 157 and skips the 43 BigQuery cases with a written reason', (mode) => {
    const { run, skip } = plan(mode);
    expect(run).toHaveLength(157);
    expect(skip).toHaveLength(43);
    expect(2 * skip.length).toBe(86); // two tests per case
    for (const { matrixCase, reason } of skip) {
      expect(matrixCase.sink).toBe('bigquery');
      expect(reason).toContain('BigQuery');
      expect(reason).toMatch(/no local emulator/);
    }
    expect(run.some((c) => c.sink === 'bigquery')).toBe(false);
  });

  it('vendor_live runs the cases with a managed BigQuery or Kafka end and skips the rest with a reason', () => {
    const { run, skip } = plan('vendor_live');
    const managed = (c: MatrixCase) => ['bigquery', 'kafka'].includes(c.sink) || c.source === 'kafka';
    expect(run.every(managed)).toBe(true);
    expect(skip.every(({ matrixCase }) => !managed(matrixCase))).toBe(true);
    // Not managed: sources postgres/mssql/clickhouse × sinks mssql/postgres/clickhouse:
    // 9 pairs × (4 base + 1 diff + 3 db_target) + 3 xmin + 6 cdc = 81; 200 − 81 = 119, of which
    // REST → mssql/postgres/clickhouse (3 × 8 = 24) read only the in-process mock: 95 run.
    expect(skip.filter(({ reason }) => /no managed service/.test(reason))).toHaveLength(9 * 8 + 3 + 6);
    const restOnly = skip.filter(({ matrixCase }) => matrixCase.source === 'rest_api');
    expect(restOnly).toHaveLength(3 * 8);
    for (const { reason } of restOnly) expect(reason).toMatch(/in-process mock API/);
    expect(run).toHaveLength(95);
    expect(run.filter((c) => c.sink === 'bigquery')).toHaveLength(43);
    for (const c of run) expect(sourceFamily(c.source).vendorLive || sinkFamily(c.sink).vendorLive).toBe(true);
  });

  it('every skip has a non-empty reason, and a run has none', () => {
    for (const mode of RUN_MODES) {
      for (const matrixCase of MATRIX) {
        const disposition = dispositionFor(matrixCase, mode);
        if (disposition.action === 'skip') expect(disposition.reason.trim().length).toBeGreaterThan(20);
        else expect(Object.keys(disposition)).toEqual(['action']);
      }
    }
  });
});
