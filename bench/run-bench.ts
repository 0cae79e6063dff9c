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
};

const name = process.argv[2] ?? '';
const bench = BENCHES[name];
if (!bench) {
  process.stderr.write(`usage: pnpm bench <${Object.keys(BENCHES).join('|')}>\n`);
  process.exitCode = 2;
} else {
  process.stdout.write(`${await bench()}\n`);
}
