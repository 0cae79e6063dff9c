import type { MssqlDriver, MssqlSource } from '../../../engine/connectors/mssql/index.ts';
import { bulkInsert, MssqlSink, seedMssqlSource } from '../../../engine/connectors/mssql/index.ts';
import type { TargetSpec } from '../../../engine/plan/index.ts';
import type { LoadState } from '../../../engine/state/index.ts';
import { sqlText } from '../../../engine/sql/sql-statement.ts';
import type { SourceFixture } from '../../../fixtures/source-fixture.ts';
import type { MssqlConnection } from '../../../fixtures/services/mssql-providers.ts';
import { openMssqlDriver } from '../../../fixtures/services/mssql-providers.ts';
import type { ServiceHandle } from '../../../fixtures/services/provider.ts';
import { sourceFamily } from '../../families.ts';
import type { SeededSink, SeededSource, SinkHarness, SourceHarness } from '../family-harness.ts';
import { once, seededSource, seededTableSink } from '../family-harness.ts';

/** The source table of a case, inside the case's schema. */
const SOURCE_TABLE = 'orders';

/**
 * Drops schema `schema` with every table in it (SQL Server has no DROP SCHEMA … CASCADE); dropping
 * a CDC-enabled table drops its capture instance too. A missing schema is fine.
 */
export async function dropMssqlSchema(driver: MssqlDriver, schema: string): Promise<void> {
  const tables = await driver.query({
    sql: 'SELECT QUOTENAME(s.name) + N\'.\' + QUOTENAME(t.name) FROM sys.tables AS t JOIN sys.schemas AS s ON s.schema_id = t.schema_id WHERE s.name = @p1',
    params: [schema],
  });
  for (const [table] of tables) await driver.query(sqlText(`DROP TABLE ${String(table)}`));
  await driver.query({ sql: "DECLARE @drop nvarchar(max) = N'DROP SCHEMA ' + QUOTENAME(@p1);\nIF SCHEMA_ID(@p1) IS NOT NULL EXEC(@drop)", params: [schema] });
}

/**
 * SQL Server as a source in the local modes: each case gets schema `ns` holding the fixture's table
 * (CDC-enabled, with its journal), seeded by `seedMssqlSource` on a driver of the case's own.
 * `release` drops the schema (and with it the capture instance) and closes the driver.
 */
export function mssqlSourceHarness(handle: ServiceHandle<MssqlConnection>): SourceHarness {
  return {
    family: 'mssql',
    services: ['mssql'],
    async seedSource(fixture: SourceFixture, ns: string): Promise<SeededSource> {
      const driver = await openMssqlDriver(handle.connection);
      const release = once(async () => {
        try {
          await dropMssqlSchema(driver, ns);
        } finally {
          await driver.close();
        }
      });
      return seededSource<MssqlSource>(release, (afterBase) => seedMssqlSource(driver, { schema: ns, name: SOURCE_TABLE }, fixture, {
        asOf: fixture.snapshotAt, capabilities: sourceFamily('mssql').capabilities, afterBase,
      }));
    },
    close: async () => undefined,
  };
}

/**
 * SQL Server as a sink in the local modes: each case loads into schema `ns`, whose target is
 * bulk-loaded with the scenario's target-before rows, with the base cursor committed to
 * `etl_state.__dpone__loads`. `release` drops the schema and the pipeline's state row.
 */
export function mssqlSinkHarness(handle: ServiceHandle<MssqlConnection>): SinkHarness {
  return {
    family: 'mssql',
    services: ['mssql'],
    async seedSink(fixture: SourceFixture, target: TargetSpec, ns: string, pipeline: string, baseCursor: LoadState): Promise<SeededSink> {
      const driver = await openMssqlDriver(handle.connection);
      const sink = new MssqlSink(driver, { schema: ns });
      const release = once(async () => {
        try {
          await dropMssqlSchema(driver, ns);
          await driver.query({ sql: `DELETE FROM ${sink.dialect.qualified(sink.names().state)} WHERE [pipeline] = @p1`, params: [pipeline] });
        } finally {
          await sink.close();
        }
      });
      return seededTableSink(sink, release, { fixture, target, pipeline, baseCursor }, (into, columns, rows) => bulkInsert(driver, sink.dialect, into, columns, rows));
    },
    close: async () => undefined,
  };
}
