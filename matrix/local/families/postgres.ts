import { copyRows, PostgresSink, PostgresSource, seedPostgresSource } from '../../../engine/connectors/postgres/index.ts';
import type { PostgresDriver } from '../../../engine/connectors/postgres/index.ts';
import type { TargetSpec } from '../../../engine/plan/index.ts';
import type { LoadState } from '../../../engine/state/index.ts';
import type { SourceFixture } from '../../../fixtures/source-fixture.ts';
import type { PostgresConnection } from '../../../fixtures/services/postgres-embedded.ts';
import { openPostgresDriver } from '../../../fixtures/services/postgres-providers.ts';
import type { ServiceHandle } from '../../../fixtures/services/provider.ts';
import { sourceFamily } from '../../families.ts';
import type { SeededSink, SeededSource, SinkHarness, SourceHarness } from '../family-harness.ts';
import { once, seededSource, seededTableSink } from '../family-harness.ts';

/** The source table of every case; its schema (`ns`) is what sets cases apart. */
const SOURCE_TABLE = 'orders';

/**
 * `ns` as a schema name (`pg_` names are reserved for system schemas, so those get a `dpone_`
 * prefix); anything but the lowercase identifier the harness contract promises is refused.
 */
function schemaOf(ns: string): string {
  if (!/^[a-z_][a-z0-9_]{0,39}$/.test(ns)) throw new Error(`postgres harness: namespace ${JSON.stringify(ns)} is not a lowercase identifier of at most 40 characters`);
  return ns.startsWith('pg_') ? `dpone_${ns}` : ns;
}

async function dropSchema(driver: PostgresDriver, schema: string): Promise<void> {
  await driver.query({ sql: `DROP SCHEMA IF EXISTS "${schema}" CASCADE`, params: [] });
}

/**
 * PostgreSQL as a source in the local modes: the fixture's table in schema `ns`, with a logical
 * replication slot `dpone_<ns>` of its own for CDC. `release` drops the slot (a slot keeps WAL
 * for ever), the schema, and closes the case's pool.
 */
export function postgresSourceHarness(handle: ServiceHandle<PostgresConnection>): SourceHarness {
  const capabilities = sourceFamily('postgres').capabilities;
  return {
    family: 'postgres',
    services: ['postgres'],
    async seedSource(fixture: SourceFixture, ns: string): Promise<SeededSource> {
      const schema = schemaOf(ns);
      const table = { schema, name: SOURCE_TABLE };
      const slot = `dpone_${schema}`;
      const driver = await openPostgresDriver(handle.connection);
      // Built before seeding, so that a seeding that fails after creating the slot still drops it.
      const slotOwner = new PostgresSource(driver, { table, schema: fixture.schema, slot });
      const release = once(async () => {
        try {
          await slotOwner.dropCdcSlot();
          await dropSchema(driver, schema);
        } finally {
          await driver.close();
        }
      });
      return seededSource<PostgresSource>(release, (afterBase) => seedPostgresSource(driver, table, fixture, { asOf: fixture.snapshotAt, slot, capabilities, afterBase }));
    },
    close: async () => undefined,
  };
}

/**
 * PostgreSQL as a sink in the local modes: a `PostgresSink` loading into schema `ns`, its target
 * created and filled with the target-before rows by COPY, the base cursor committed in the sink's
 * state table. `release` drops the schema and closes the case's pool.
 */
export function postgresSinkHarness(handle: ServiceHandle<PostgresConnection>): SinkHarness {
  return {
    family: 'postgres',
    services: ['postgres'],
    async seedSink(fixture: SourceFixture, target: TargetSpec, ns: string, pipeline: string, baseCursor: LoadState): Promise<SeededSink> {
      const schema = schemaOf(ns);
      const driver = await openPostgresDriver(handle.connection);
      const sink = new PostgresSink(driver, { schema });
      const release = once(async () => {
        try {
          await dropSchema(driver, schema);
        } finally {
          await sink.close();
        }
      });
      return seededTableSink(sink, release, { fixture, target, pipeline, baseCursor }, (into, columns, rows) => copyRows(driver, sink.dialect, into, columns, rows));
    },
    close: async () => undefined,
  };
}
