import { resolveProfile } from '../fixtures/volume-profile.ts';
import { benchLoad } from './load-bench.ts';
import { benchMatrixRun, formatMatrixBench } from './matrix-bench.ts';

const BENCHES: Record<string, () => Promise<string>> = {
  /** The full mock_contract matrix at the default volume and at 100,000 rows per case. */
  matrix: async () => {
    const runs = [];
    for (const rows of [10_000, 100_000]) {
      process.stderr.write(`bench matrix: ${rows.toLocaleString('en-US')} rows per case…\n`);
      runs.push(await benchMatrixRun(rows));
    }
    return formatMatrixBench(runs);
  },
  /**
   * The engine's load of the wide dataset into PostgreSQL, ClickHouse and Kafka, each timed side by
   * side with that system's native bulk tool (100,000 rows unless DPONE_MATRIX_ROW_COUNT says otherwise).
   */
  load: () => benchLoad({
    rows: resolveProfile({}, process.env, { rows: 100_000, changeRatio: 0.2, deleteRatio: 0.05 }).rows,
    progress: (line) => process.stderr.write(`${line}\n`),
  }),
};

const name = process.argv[2] ?? '';
const bench = BENCHES[name];
if (!bench) {
  process.stderr.write(`usage: pnpm bench <${Object.keys(BENCHES).join('|')}>\n`);
  process.exitCode = 2;
} else {
  process.stdout.write(`${await bench()}\n`);
}
