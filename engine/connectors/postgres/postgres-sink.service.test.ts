import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ColumnDef, Row, TableSchema } from '../../schema/index.ts';
import { TYPE_FAMILIES } from '../../schema/index.ts';
import type { StagedBatch, TargetSpec } from '../../plan/index.ts';
import type { StrategyName } from '../../strategies/index.ts';
import { reconcileFaultOutcome, seededSinkCase } from '../../../fixtures/connector-test-support.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import type { PgModule } from '../../../fixtures/services/postgres-embedded.ts';
import { EmbeddedPostgres, embeddedPostgresInstalled, loadPg, loadPgCopyFrom } from '../../../fixtures/services/postgres-embedded.ts';
import { sourceFamily } from '../../../matrix/families.ts';
import { COPY_CONVERTED_FAMILIES, copyRows } from './postgres-copy.ts';
import { PostgresDialect } from './postgres-dialect.ts';
import type { PgCopyFromShape } from './postgres-driver.ts';
import { PostgresDriver } from './postgres-driver.ts';
import { PostgresSink } from './postgres-sink.ts';

/**
 * The PostgreSQL sink against a real server (embedded PostgreSQL 18, one cluster for the file): each
 * strategy loads the fixture's delta into a target seeded with the scenario's target-before rows,
 * in a schema of its own, and the target read back must pass every quality check — which also
 * proves that every wide-column type family round-trips to its canonical value through COPY
 * staging. Awkward values must stage through COPY exactly as through INSERTs.
 */

const installed = embeddedPostgresInstalled();
const FIXTURE = buildSourceFixture('postgres', { rows: 300, changeRatio: 0.2, deleteRatio: 0.05 });
const CAPABILITIES = sourceFamily('postgres').capabilities;
const STRATEGIES: readonly StrategyName[] = ['incremental_merge', 'full_refresh', 'incremental_append', 'scd2', 'partition_replace'];

let server: EmbeddedPostgres | undefined;
let pg: PgModule | undefined;
let copyFrom: PgCopyFromShape | undefined;
const sinks: PostgresSink[] = [];

/** A sink on its own pool, loading into `schema` (staging through COPY unless `staging` is `insert`), and its driver. */
function sinkIn(schema: string, staging: 'copy' | 'insert' = 'copy'): { sink: PostgresSink; driver: PostgresDriver } {
  if (!server || !pg) throw new Error('embedded PostgreSQL is not running');
  const driver = new PostgresDriver(new pg.Pool({ ...server.connection, max: 2 }), staging === 'copy' ? { copyFrom } : {});
  const sink = new PostgresSink(driver, { schema });
  sinks.push(sink);
  return { sink, driver };
}

/** A target in `schema` as the previous load left it: target-before rows and the base cursor committed. */
async function seeded(strategy: StrategyName, schema: string) {
  const { sink, driver } = sinkIn(schema);
  const load = await seededSinkCase(FIXTURE, CAPABILITIES, strategy, sink, `orders_${schema}`, (into, columns, rows) => copyRows(driver, sink.dialect, into, columns, rows));
  return { ...load, sink };
}

describe('COPY text conversions', () => {
  test('exist exactly for the families the Postgres type mapping binds through an expression', () => {
    const dialect = new PostgresDialect();
    const bound = TYPE_FAMILIES.filter((family) => dialect.familyType(family).bind !== undefined);
    expect([...COPY_CONVERTED_FAMILIES].sort()).toEqual([...bound].sort());
  });
});

/** One nullable column per type family, keyed by `id`. */
const AWKWARD_SCHEMA: TableSchema = {
  key: 'id',
  columns: [{ name: 'id', family: 'integer', nullable: false }, ...TYPE_FAMILIES.map((family): ColumnDef => ({ name: `c_${family}`, family, nullable: true }))],
};

/** Values COPY text must escape or convert with care; families not listed take a fixture value. */
const AWKWARD_VALUES: Partial<Record<(typeof TYPE_FAMILIES)[number], readonly (string | number | bigint | boolean)[]>> = {
  text: ['tab\there', 'line\nbreak\r\nend', 'back\\slash \\N \\x41 \\.', '日本語 ünïcödé 🚀 \u00a0', '', '\\.'],
  varchar: ['"quoted", {braces}', ' leading and trailing ', 'NULL', '\\N'],
  nvarchar: ['Ωmega\tžluť', 'emoji 👩‍💻'],
  decimal: ['9999999999999999999999999999.9999999999', '-0.0000000001', '0'],
  bigint: ['9223372036854775807', '-9223372036854775808'],
  uint64: ['18446744073709551615', '0'],
  integer: [2147483647, -2147483648],
  float: [Number.MAX_VALUE, 5e-324, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN],
  real: [Math.fround(3.4e38), Math.fround(1e-38), -1.5],
  timestamp: [253402300799999999n, -62135596800000000n, -1, 0, 1],
  timestamptz: [253402214400000000n, -62135596800000000n, -1],
  datetime2: [253402300799999999n, 1_000_000_000_000_001],
  time: [0, 86_399_999_999],
  interval: [-1_500_000, 3_600_000_000_000_001, 0],
  binary: ['', '00ff5c0a090d'],
  varbinary: ['5c4e', 'deadbeef'],
  rowversion: ['0000000000000001'],
  int_array: ['[-1,0,2147483648]', '[]', '[[1,2],[3,4]]'],
  text_array: ['["a\\"b","c\\\\d","e,f","{g}","NULL","",null," sp "]', '[]', '["tab\\there","new\\nline"]'],
  jsonb: ['{"a":"tab\\there","b":"ü","c":[1,2.5,null]}'],
  json: ['{"k":"line\\nbreak \\\\ back"}'],
  xml: ['<a>x &amp; y\n\tz</a>'],
  date: ['0001-01-01', '9999-12-31'],
  nchar: ['ab'],
  boolean: [true, false],
};

/** A null row, then rows of awkward values (a fixture value where a family has run out of them). */
function awkwardRows(): Row[] {
  const fixtureRow = FIXTURE.before[0] as Row;
  const fixtureValue = (family: string) => {
    const index = FIXTURE.schema.columns.findIndex((column) => column.family === family);
    return index < 0 ? null : fixtureRow[index] ?? null;
  };
  const depth = Math.max(...Object.values(AWKWARD_VALUES).map((values) => values.length));
  const rows: Row[] = [[1, ...TYPE_FAMILIES.map(() => null)]];
  for (let i = 0; i < depth; i++) {
    rows.push([i + 2, ...TYPE_FAMILIES.map((family) => AWKWARD_VALUES[family]?.[i] ?? fixtureValue(family))]);
  }
  return rows;
}

describe.skipIf(!installed)(
  installed ? 'PostgresSink on embedded PostgreSQL 18' : 'PostgresSink on embedded PostgreSQL — skipped: embedded PostgreSQL not installed: run pnpm services:install',
  () => {
    beforeAll(async () => {
      server = await EmbeddedPostgres.start();
      pg = await loadPg();
      copyFrom = await loadPgCopyFrom();
    }, 120_000);

    afterAll(async () => {
      for (const sink of sinks) await sink.close();
      await server?.stop();
    }, 60_000);

    test.each(STRATEGIES)('%s: the target read back passes every quality check', async (strategy) => {
      const load = await seeded(strategy, `s_${strategy}`);
      const report = await load.load();
      expect(report.batches.every((batch) => batch.committed)).toBe(true);
      expect(await load.judge(report)).toEqual([]);
    }, 60_000);

    test('a fault at reconcile rolls back target and state; a rerun converges', async () => {
      const load = await seeded('incremental_merge', 's_fault');
      expect(await reconcileFaultOutcome(load, load.sink)).toEqual({ failedAt: 'reconcile', targetUnchanged: true, stateUnchanged: true, rerunFailures: [] });
    }, 60_000);

    test('sinks of parallel loads create a missing state table together without a catalog conflict', async () => {
      if (!server || !pg) throw new Error('embedded PostgreSQL is not running');
      const { connection } = server;
      const { Pool } = pg;
      const stateTable = { schema: 'etl_state_race', name: 'loads' };
      const racing = Array.from({ length: 12 }, () => {
        const sink = new PostgresSink(new PostgresDriver(new Pool({ ...connection, max: 1 })), { stateTable });
        sinks.push(sink);
        return sink;
      });
      const loaded = await Promise.allSettled(racing.map((sink) => sink.stateStore.load('race')));
      expect(loaded.filter((result) => result.status === 'rejected')).toEqual([]);
    }, 60_000);

    test('awkward values stage through COPY exactly as through INSERTs, and read back as written', async () => {
      const rows = awkwardRows();
      const batch: StagedBatch = { name: 'awkward_batch', schema: AWKWARD_SCHEMA, rows, ops: rows.map(() => 'I') };
      const staged: TargetSpec = { name: batch.name, dataSchema: AWKWARD_SCHEMA, shape: 'plain' };
      const copied = sinkIn('s_awkward_copy', 'copy');
      const inserted = sinkIn('s_awkward_insert', 'insert');
      expect(copied.driver.canCopy).toBe(true);
      expect(inserted.driver.canCopy).toBe(false);
      await copied.driver.query({ sql: 'CREATE SCHEMA s_awkward_copy', params: [] });
      await inserted.driver.query({ sql: 'CREATE SCHEMA s_awkward_insert', params: [] });
      await copied.sink.stage(batch);
      await inserted.sink.stage(batch);
      const throughCopy = (await copied.sink.read(staged)).rows;
      const throughInsert = (await inserted.sink.read(staged)).rows;
      const byId = (a: Row, b: Row) => Number(a[0]) - Number(b[0]);
      expect([...throughCopy].sort(byId)).toEqual([...throughInsert].sort(byId));
      expect([...throughCopy].sort(byId)).toEqual(rows);
    }, 60_000);
  },
);
