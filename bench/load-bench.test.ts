import { describe, expect, it } from 'vitest';
import { formatLoadBench, loadRatio } from './load-bench.ts';
import type { LoadBenchResult } from './load/load-bench-result.ts';

const result = (system: string, engineSeconds: number, nativeSeconds: number): LoadBenchResult => ({
  system, provider: 'embedded', rows: 100_000, columns: 120, engineMethod: 'full_refresh', engineSeconds,
  nativeTool: 'native', nativeSeconds, notes: [`${system} note`],
});

describe('load bench report', () => {
  it('the ratio is engine rows/s over native rows/s', () => {
    expect(loadRatio(result('postgres', 10, 8))).toBeCloseTo(0.8);
    expect(loadRatio(result('kafka', 4, 8))).toBeCloseTo(2);
  });

  it('prints both rates, the ratio against the 0.8 goal, a failed system and the notes', () => {
    const text = formatLoadBench([result('postgres', 10, 8), result('clickhouse', 20, 8), { system: 'kafka', error: 'no Java' }]);
    const [header, postgres, clickhouse, kafka] = text.split('\n');
    expect(header).toMatch(/^system\s+rows\s+engine rows\/s\s+native rows\/s\s+ratio\s+goal ≥ 0.8/);
    expect(postgres).toMatch(/^postgres\s+100,000\s+10,000\s+12,500\s+0\.80\s+meets goal/);
    expect(clickhouse).toMatch(/^clickhouse\s+100,000\s+5,000\s+12,500\s+0\.40\s+below goal/);
    expect(kafka).toContain('not measured: no Java');
    expect(text).toContain('  - clickhouse note');
  });
});
