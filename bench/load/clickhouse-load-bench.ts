import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SourceCapabilities } from '../../engine/connectors/index.ts';
import { MemorySource } from '../../engine/connectors/index.ts';
import { ChdbDriver, ClickHouseSink, tabSeparatedChunks } from '../../engine/connectors/clickhouse/index.ts';
import { runLoad } from '../../engine/lifecycle/index.ts';
import type { TargetSpec } from '../../engine/plan/index.ts';
import type { Row } from '../../engine/schema/index.ts';
import { loadNames } from '../../engine/sql/names.ts';
import { sqlText } from '../../engine/sql/sql-statement.ts';
import { DEFAULT_STRATEGIES } from '../../engine/strategies/index.ts';
import { buildSourceFixture } from '../../fixtures/source-fixture.ts';
import { openChdbSession } from '../../fixtures/services/chdb-embedded.ts';
import type { LoadBenchOptions, LoadBenchResult } from './load-bench-result.ts';

const TABLE = 'orders';
const ENGINE_DATABASE = 'bench_engine';
const NATIVE_DATABASE = 'bench_native';
const CAPABILITIES: SourceCapabilities = { incremental: false, xmin: false, cdc: false };

/**
 * Seconds the engine's JavaScript side of staging takes alone: the TabSeparated encoding (a plain
 * full_refresh target keeps no row hash, so staging computes none).
 */
function javaScriptStagingSeconds(rows: readonly Row[]): number {
  const started = performance.now();
  let bytes = 0;
  for (const chunk of tabSeparatedChunks(rows, () => ['I', ''])) bytes += chunk.length;
  if (bytes === 0) throw new Error('clickhouse bench: nothing encoded');
  return (performance.now() - started) / 1000;
}

/**
 * The ClickHouse line of `pnpm bench load`, on chdb (in-process ClickHouse, one session): the
 * engine's `full_refresh` of the fixture's wide base rows from a memory source into a
 * `ClickHouseSink` (TabSeparated chunks → wire table → staging → twin table → EXCHANGE TABLES), timed end
 * to end; then ClickHouse's own file insert, `INSERT INTO … SELECT * FROM file(…, TabSeparated)`,
 * of the same rows into an identical empty table. The file is written beforehand by ClickHouse
 * from the engine's target, so it holds each column's native text form.
 */
export async function benchClickHouseLoad(options: LoadBenchOptions): Promise<LoadBenchResult> {
  const fixture = buildSourceFixture('clickhouse', { rows: options.rows, changeRatio: 0.2, deleteRatio: 0.05 });
  const rows = fixture.before;
  const strategy = DEFAULT_STRATEGIES.get('full_refresh');
  const target: TargetSpec = { name: TABLE, dataSchema: fixture.schema, shape: strategy.targetShape('relational') };
  const workDir = mkdtempSync(join(tmpdir(), 'dpone-ch-bench-'));
  const driver = new ChdbDriver(await openChdbSession(join(workDir, 'data')));
  const sink = new ClickHouseSink(driver, { schema: ENGINE_DATABASE });
  try {
    const source = new MemorySource({
      family: 'clickhouse', capabilities: CAPABILITIES, schema: fixture.schema, baseRows: rows, changes: [],
      snapshotAt: fixture.snapshotAt, watermarkColumn: 'updated_at',
    });
    options.progress('bench load clickhouse: engine full_refresh');
    const started = performance.now();
    await runLoad({ pipeline: 'bench_clickhouse_load', source, sink, strategy, stateStore: sink.stateStore, targetName: TABLE });
    const engineSeconds = (performance.now() - started) / 1000;

    const file = join(workDir, `${TABLE}.tsv`);
    const engineTable = sink.dialect.qualified(sink.names(TABLE).target);
    const nativeNames = loadNames(TABLE, '__dpone__none', { schema: NATIVE_DATABASE });
    options.progress('bench load clickhouse: writing the rows as TabSeparated for the file insert');
    await driver.execute([
      sqlText(`INSERT INTO FUNCTION file(${sink.dialect.literal(file)}, 'TabSeparated') SELECT * FROM ${engineTable}`),
      ...sink.dialect.compiler.createTarget(target, nativeNames),
    ]);

    options.progress('bench load clickhouse: INSERT … SELECT FROM file()');
    const nativeStarted = performance.now();
    await driver.execute([sqlText(`INSERT INTO ${sink.dialect.qualified(nativeNames.target)} SELECT * FROM file(${sink.dialect.literal(file)}, 'TabSeparated')`)]);
    const nativeSeconds = (performance.now() - nativeStarted) / 1000;
    const loaded = Number(await driver.scalar(sqlText(`SELECT count() FROM ${sink.dialect.qualified(nativeNames.target)}`)));
    if (loaded !== rows.length) throw new Error(`clickhouse bench: the file insert loaded ${loaded} rows, expected ${rows.length}`);
    options.progress('bench load clickhouse: timing the JavaScript side of staging alone');
    const javaScriptSeconds = javaScriptStagingSeconds(rows);
    const version = String(await driver.scalar(sqlText('SELECT version()')));
    return {
      system: 'clickhouse',
      provider: `chdb (ClickHouse ${version}) in-process`,
      rows: rows.length,
      columns: fixture.schema.columns.length,
      engineMethod: 'full_refresh via TabSeparated wire insert + staging + EXCHANGE TABLES',
      engineSeconds,
      nativeTool: `INSERT … SELECT FROM file(TabSeparated, ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB)`,
      nativeSeconds,
      notes: [
        `${javaScriptSeconds.toFixed(2)} s of the engine's time is JavaScript encoding the rows as TabSeparated (no row hashes: the plain target keeps none), on the main thread while chdb parses the previous chunk on the same ${availableParallelism()} cores`,
        'the staged lifecycle writes the rows three times (wire table → staging MergeTree → the twin published by EXCHANGE TABLES), the file insert once; the largest step is the twin\'s insert, partitioned like the target (as the file insert\'s table is): a swap cannot publish staging itself, whose columns (op, row hash, all nullable) differ from the target\'s',
      ],
    };
  } finally {
    await sink.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}
