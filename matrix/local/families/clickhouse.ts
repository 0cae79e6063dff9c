import type { ClickHouseDriver, ClickHouseSource } from '../../../engine/connectors/clickhouse/index.ts';
import { ClickHouseDialect, ClickHouseSink, insertCanonicalRows, seedClickHouseSource } from '../../../engine/connectors/clickhouse/index.ts';
import type { TargetSpec } from '../../../engine/plan/index.ts';
import type { LoadState } from '../../../engine/state/index.ts';
import { sqlText } from '../../../engine/sql/index.ts';
import type { SourceFixture } from '../../../fixtures/source-fixture.ts';
import type { ClickHouseConnection } from '../../../fixtures/services/clickhouse-providers.ts';
import { openClickHouseDriver } from '../../../fixtures/services/clickhouse-providers.ts';
import type { ServiceHandle } from '../../../fixtures/services/provider.ts';
import { sourceFamily } from '../../families.ts';
import type { SeededSink, SeededSource, SinkHarness, SourceHarness } from '../family-harness.ts';
import { once, seededSource, seededTableSink } from '../family-harness.ts';

/** The source table of every case; its database is what sets cases apart. */
const SOURCE_TABLE = 'orders';
const DIALECT = new ClickHouseDialect();

/** `ns` as a database name; anything but the lowercase identifier the harness contract promises is refused. */
function databaseOf(ns: string): string {
  if (!/^[a-z_][a-z0-9_]{0,39}$/.test(ns)) throw new Error(`clickhouse harness: namespace ${JSON.stringify(ns)} is not a lowercase identifier of at most 40 characters`);
  return ns;
}

/** A release that drops `database` and closes the case's driver. */
function dropping(driver: ClickHouseDriver, database: string): () => Promise<void> {
  return once(async () => {
    try {
      await driver.execute([sqlText(`DROP DATABASE IF EXISTS ${DIALECT.quote(database)}`)]);
    } finally {
      await driver.close();
    }
  });
}

/**
 * ClickHouse as a source in the local modes: the fixture's table and its journal in database
 * `<ns>_src` (a case's sink may use `ns` on the same server). `release` drops the database and
 * closes the case's driver.
 */
export function clickHouseSourceHarness(handle: ServiceHandle<ClickHouseConnection>): SourceHarness {
  const capabilities = sourceFamily('clickhouse').capabilities;
  return {
    family: 'clickhouse',
    services: ['clickhouse'],
    async seedSource(fixture: SourceFixture, ns: string): Promise<SeededSource> {
      const database = `${databaseOf(ns)}_src`;
      const driver = await openClickHouseDriver(handle.connection);
      const release = dropping(driver, database);
      return seededSource<ClickHouseSource>(release, (afterBase) =>
        seedClickHouseSource(driver, { schema: database, name: SOURCE_TABLE }, fixture, { asOf: fixture.snapshotAt, capabilities, afterBase }));
    },
    close: async () => undefined,
  };
}

/**
 * ClickHouse as a sink in the local modes: a `ClickHouseSink` loading into database `ns`, its
 * target created and filled with the target-before rows through the native insert path, the base
 * cursor committed in the sink's state table. `release` drops the database and closes the driver.
 */
export function clickHouseSinkHarness(handle: ServiceHandle<ClickHouseConnection>): SinkHarness {
  return {
    family: 'clickhouse',
    services: ['clickhouse'],
    async seedSink(fixture: SourceFixture, target: TargetSpec, ns: string, pipeline: string, baseCursor: LoadState): Promise<SeededSink> {
      const database = databaseOf(ns);
      const driver = await openClickHouseDriver(handle.connection);
      const sink = new ClickHouseSink(driver, { schema: database });
      const release = dropping(driver, database);
      return seededTableSink(sink, release, { fixture, target, pipeline, baseCursor }, (into, columns, rows) => insertCanonicalRows(driver, sink.dialect, into, columns, rows));
    },
    close: async () => undefined,
  };
}
