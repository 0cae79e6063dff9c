import { describe, expect, test } from 'vitest';
import { stableJson } from '../../schema/index.ts';
import type { LoadReport } from '../../lifecycle/index.ts';
import { LoadFailedError, runLoad } from '../../lifecycle/index.ts';
import type { StrategyName } from '../../strategies/index.ts';
import { DEFAULT_STRATEGIES } from '../../strategies/index.ts';
import { stagingSchema } from '../../sql/index.ts';
import { memorySourceFor } from '../../../fixtures/scenario.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import { sourceFamily } from '../../../matrix/families.ts';
import { mssqlWireType } from './mssql-compiler.ts';
import { MssqlSink } from './mssql-sink.ts';
import type { RecordedEvent, RecordedInput } from './recording-mssql.ts';
import { RecordingMssql } from './recording-mssql.ts';

/**
 * The SQL Server sink. Without a server: a full lifecycle per strategy against a recording fake of
 * `mssql`, pinning the statements in order, the transaction around finalize, reconcile and the
 * state MERGE, the rollback on a failed reconcile, and the bulk-load table of the 120 wide columns.
 * The same loads against a real server are in `mssql-sink.service.test.ts`.
 */

const FIXTURE = buildSourceFixture('mssql', { rows: 40, changeRatio: 0.25, deleteRatio: 0.05 });
const CAPABILITIES = sourceFamily('mssql').capabilities;

/** One line per event: the first line of each query (staging hashes elided), bulk loads summarised. */
function timeline(events: readonly RecordedEvent[]): string[] {
  const line = (event: RecordedEvent): string => {
    switch (event.kind) {
      case 'query': return `${event.inTransaction ? 'tx ' : ''}${event.sql.split('\n')[0] ?? ''}`;
      case 'bulk': return `${event.inTransaction ? 'tx ' : ''}bulk ${event.table}: ${event.columns.length} columns, ${event.rows.length} rows`;
      default: return event.kind;
    }
  };
  return events.map((event) => {
    const text = line(event).replace(/stg_[0-9a-f]+_/g, 'stg_*_');
    return text.length > 120 ? `${text.slice(0, 120)}…` : text;
  });
}

/**
 * A fake server that answers like SQL Server would for this load: the stored base state, the
 * staged row count (what was bulk-loaded), the target's count, and reconcile counts derived from
 * the staged ops. `keysAbsent` is what the keys_absent check observes (0 on a correct load).
 */
function fakeServer(keysAbsent = 0): RecordingMssql {
  const staged = (server: RecordingMssql) => {
    const bulk = server.events.findLast((event) => event.kind === 'bulk');
    return bulk?.kind === 'bulk' ? bulk.rows : [];
  };
  const opIndex = stagingSchema(FIXTURE.schema).columns.length - 2;
  const server: RecordingMssql = new RecordingMssql((sql: string, _inputs: readonly RecordedInput[]) => {
    if (sql.startsWith('SELECT [state]')) return [[stableJson(memorySourceFor(FIXTURE, CAPABILITIES).baseCursor())]];
    if (sql.includes('AS staged_rows')) return [[staged(server).length]];
    if (sql.includes("s.[__dpone__op] <> 'D' AND")) return [[staged(server).filter((row) => row[opIndex] !== 'D').length]];
    if (sql.includes("s.[__dpone__op] = 'D' AND")) return [[keysAbsent]];
    if (sql.startsWith('SELECT COUNT(*) AS observed FROM [landing].[orders]\nWHERE')) return [[staged(server).length]];
    if (sql.startsWith('SELECT COUNT(*) AS observed FROM [landing].[orders]')) return [[FIXTURE.before.length]];
    return undefined;
  });
  return server;
}

async function fakeLoad(strategy: StrategyName, server: RecordingMssql): Promise<LoadReport> {
  const sink = new MssqlSink(server.driver(), { schema: 'landing' });
  return runLoad({
    pipeline: 'orders', source: memorySourceFor(FIXTURE, CAPABILITIES), sink, strategy: DEFAULT_STRATEGIES.get(strategy),
    stateStore: sink.stateStore, targetName: 'orders', options: { window: FIXTURE.window, backfill: FIXTURE.backfill },
  });
}

describe('MssqlSink lifecycle against a recording fake of mssql', () => {
  test('incremental_merge: bulk-staged, then MERGE, reconcile and the state MERGE in one transaction', async () => {
    const server = fakeServer();
    const report = await fakeLoad('incremental_merge', server);
    expect(report.batches.map((batch) => batch.committed)).toEqual([true]);
    expect(timeline(server.events)).toEqual([
      "IF SCHEMA_ID(N'etl_state') IS NULL EXEC(N'CREATE SCHEMA [etl_state]')",
      "IF OBJECT_ID(N'[etl_state].[__dpone__loads]', N'U') IS NULL",
      'SELECT [state] AS [state] FROM [etl_state].[__dpone__loads] WHERE [pipeline] = CAST(@p1 AS nvarchar(400))',
      "IF SCHEMA_ID(N'landing') IS NULL EXEC(N'CREATE SCHEMA [landing]')",
      "IF OBJECT_ID(N'[landing].[orders]', N'U') IS NULL",
      'SELECT COUNT(*) AS observed FROM [landing].[orders]',
      "IF SCHEMA_ID(N'landing') IS NULL EXEC(N'CREATE SCHEMA [landing]')",
      'DROP TABLE IF EXISTS [landing].[stg_*_delta]',
      'CREATE TABLE [landing].[stg_*_delta] (',
      'DROP TABLE IF EXISTS [landing].[stg_*_delta__dpone_wire]',
      'CREATE TABLE [landing].[stg_*_delta__dpone_wire] (',
      'bulk [landing].[stg_*_delta__dpone_wire]: 128 columns, 10 rows',
      'INSERT INTO [landing].[stg_*_delta] ([id], [business_date], [amount], [status], [updated_at], [row_version], [wide_mssql…',
      'DROP TABLE IF EXISTS [landing].[stg_*_delta__dpone_wire]',
      'SELECT COUNT(*) AS staged_rows FROM [landing].[stg_*_delta]',
      'begin',
      'tx SELECT COUNT(*) AS observed FROM [landing].[orders]',
      'tx MERGE INTO [landing].[orders] WITH (HOLDLOCK) AS t',
      'tx SELECT COUNT(*) AS observed FROM [landing].[stg_*_delta] AS s',
      'tx SELECT COUNT(*) AS observed FROM [landing].[stg_*_delta] AS s',
      'tx MERGE INTO [etl_state].[__dpone__loads] WITH (HOLDLOCK) AS t',
      'commit',
      'DROP TABLE IF EXISTS [landing].[stg_*_delta]',
    ]);
    const stateWrite = server.events.find((event) => event.kind === 'query' && event.sql.startsWith('MERGE INTO [etl_state]'));
    expect(stateWrite?.kind === 'query' && stateWrite.inputs.map((input) => input.value)).toEqual(['orders', stableJson(report.committedState), report.loadId]);
  });

  test('partition_replace: DELETE of the listed partitions and INSERT from staging inside the transaction', async () => {
    const server = fakeServer();
    const report = await fakeLoad('partition_replace', server);
    expect(report.batches.map((batch) => batch.committed)).toEqual([true]);
    expect(timeline(server.events).slice(11)).toEqual([
      'bulk [landing].[stg_*_partitions__dpone_wire]: 128 columns, 40 rows',
      'INSERT INTO [landing].[stg_*_partitions] ([id], [business_date], [amount], [status], [updated_at], [row_version], [wide_…',
      'DROP TABLE IF EXISTS [landing].[stg_*_partitions__dpone_wire]',
      'SELECT COUNT(*) AS staged_rows FROM [landing].[stg_*_partitions]',
      'begin',
      'tx SELECT COUNT(*) AS observed FROM [landing].[orders]',
      'tx DELETE FROM [landing].[orders]',
      'tx INSERT INTO [landing].[orders] ([id], [business_date], [amount], [status], [updated_at], [row_version], [wide_mssql_0…',
      'tx SELECT COUNT(*) AS observed FROM [landing].[orders]',
      'tx MERGE INTO [etl_state].[__dpone__loads] WITH (HOLDLOCK) AS t',
      'commit',
      'DROP TABLE IF EXISTS [landing].[stg_*_partitions]',
    ]);
    // Compiled parameters arrive as named inputs typed by their canonical kind.
    const partitions = [...new Set(FIXTURE.after.map((row) => row[1]))].sort();
    const deletion = server.events.find((event) => event.kind === 'query' && event.sql.startsWith('DELETE FROM [landing].[orders]'));
    expect(deletion?.kind === 'query' && deletion.sql).toContain('WHERE [business_date] IN (CAST(@p1 AS date)');
    expect(deletion?.kind === 'query' && deletion.inputs).toEqual(partitions.map((value, index) => ({ name: `p${index + 1}`, type: { type: 'NVarChar', length: 65_535 }, value })));
  });

  test('a failed reconcile rolls back: no commit, no state write, staging still dropped', async () => {
    const server = fakeServer(1);
    const error = await fakeLoad('incremental_merge', server).then(() => null, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(LoadFailedError);
    expect((error as LoadFailedError).phase).toBe('reconcile');
    expect(timeline(server.events).slice(15)).toEqual([
      'begin',
      'tx SELECT COUNT(*) AS observed FROM [landing].[orders]',
      'tx MERGE INTO [landing].[orders] WITH (HOLDLOCK) AS t',
      'tx SELECT COUNT(*) AS observed FROM [landing].[stg_*_delta] AS s',
      'tx SELECT COUNT(*) AS observed FROM [landing].[stg_*_delta] AS s',
      'rollback',
      'DROP TABLE IF EXISTS [landing].[stg_*_delta]',
    ]);
  });

  test('the bulk-load table: the staging columns in order, each with the wire type its canonical values have', async () => {
    const server = fakeServer();
    await fakeLoad('incremental_merge', server);
    const bulk = server.events.find((event) => event.kind === 'bulk');
    if (bulk?.kind !== 'bulk') throw new Error('no bulk load recorded');
    const columns = stagingSchema(FIXTURE.schema).columns;
    expect(bulk.columns.map((column) => column.name)).toEqual(columns.map((column) => column.name));
    expect(bulk.columns.filter((column) => /^wide_mssql_\d{3}_/.test(column.name))).toHaveLength(120);
    const MSSQL_TYPE = { bigint: 'BigInt', float: 'Float', bit: 'Bit', 'nvarchar(max)': 'NVarChar' } as const;
    expect(bulk.columns.map((column) => column.type.type)).toEqual(columns.map((column) => MSSQL_TYPE[mssqlWireType(column)]));
    expect(bulk.columns.every((column) => column.nullable)).toBe(true);
    // The definition must fit the data: every fixture value has the JavaScript kind of its wire type.
    const KIND = { BigInt: ['number', 'bigint'], Float: ['number'], Bit: ['boolean'], NVarChar: ['string'] } as const;
    for (const row of [...FIXTURE.before, ...FIXTURE.changes.map((change) => change.row)]) {
      row.forEach((value, index) => {
        const column = bulk.columns[index];
        if (value !== null && column) expect(KIND[column.type.type] as readonly string[], column.name).toContain(typeof value);
      });
    }
    expect(Object.fromEntries(bulk.columns.map((column) => [column.name, column.type.type]))).toMatchSnapshot();
    // The conversion from the wire table applies each family's bind expression to the wire column.
    const conversion = server.queries.find((sql) => sql.startsWith('INSERT INTO [landing].[stg_'));
    expect(conversion).toContain('DATEADD(MICROSECOND, CAST(CAST(w.[updated_at] AS bigint) % 1000000 AS int)');
    expect(conversion).toContain('geometry::STGeomFromText(w.[wide_mssql_044_geometry], 0)');
    expect(conversion).toContain('CAST(w.[__dpone__op] AS char(1))');
    expect(conversion).toMatch(/FROM \[landing\]\.\[stg_[0-9a-f]+_delta__dpone_wire\] AS w$/);
  });
});
