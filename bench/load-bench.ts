import { formatTable } from '../cli/format-table.ts';
import type { LoadBenchOptions, LoadBenchResult } from './load/load-bench-result.ts';

/** The goal of issue 3: the engine loads at ≥ 0.8 of the native bulk tool's rate. */
export const LOAD_RATIO_GOAL = 0.8;

/** One system's bench, loaded lazily so that a missing services project fails only that line. */
interface SystemBench {
  readonly system: string;
  run(options: LoadBenchOptions): Promise<LoadBenchResult>;
}

export const LOAD_BENCHES: readonly SystemBench[] = [
  { system: 'postgres', run: async (options) => (await import('./load/postgres-load-bench.ts')).benchPostgresLoad(options) },
  { system: 'clickhouse', run: async (options) => (await import('./load/clickhouse-load-bench.ts')).benchClickHouseLoad(options) },
  { system: 'kafka', run: async (options) => (await import('./load/kafka-load-bench.ts')).benchKafkaLoad(options) },
];

const rate = (rows: number, seconds: number) => rows / Math.max(seconds, 1e-9);

/** Engine rows/s over native rows/s. */
export function loadRatio(result: LoadBenchResult): number {
  return rate(result.rows, result.engineSeconds) / rate(result.rows, result.nativeSeconds);
}

/** The side-by-side table, one line per system, then what limits each figure. */
export function formatLoadBench(results: readonly (LoadBenchResult | { system: string; error: string })[]): string {
  const rows = results.map((result) => ('error' in result
    ? [result.system, '—', '—', '—', '—', '—', `not measured: ${result.error}`]
    : [
        result.system,
        result.rows,
        Math.round(rate(result.rows, result.engineSeconds)),
        Math.round(rate(result.rows, result.nativeSeconds)),
        loadRatio(result).toFixed(2),
        loadRatio(result) >= LOAD_RATIO_GOAL ? 'meets goal' : 'below goal',
        result.nativeTool,
      ]));
  const notes = results.flatMap((result) => ('error' in result ? [] : [
    `${result.system}: engine = ${result.engineMethod} (${result.engineSeconds.toFixed(2)} s), native = ${result.nativeTool} (${result.nativeSeconds.toFixed(2)} s), ${result.columns} columns, ${result.provider}`,
    ...result.notes.map((note) => `  - ${note}`),
  ]));
  return [
    formatTable(['system', 'rows', 'engine rows/s', 'native rows/s', 'ratio', `goal ≥ ${LOAD_RATIO_GOAL}`, 'native tool'], rows),
    '',
    ...notes,
  ].join('\n');
}

/** Runs every system's bench one after the other (never concurrently: they would share 2 cores). */
export async function benchLoad(options: LoadBenchOptions): Promise<string> {
  const results: (LoadBenchResult | { system: string; error: string })[] = [];
  for (const bench of LOAD_BENCHES) {
    options.progress(`bench load: ${bench.system}, ${options.rows.toLocaleString('en-US')} rows…`);
    try {
      results.push(await bench.run(options));
    } catch (error) {
      results.push({ system: bench.system, error: error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error) });
    }
  }
  return formatLoadBench(results);
}
