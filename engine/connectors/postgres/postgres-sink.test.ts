import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Row } from '../../schema/index.ts';
import { targetSchema } from '../../plan/index.ts';
import type { TargetSpec } from '../../plan/index.ts';
import type { LoadReport } from '../../lifecycle/index.ts';
import { failOnceAt, LoadFailedError, runLoad } from '../../lifecycle/index.ts';
import type { LoadState } from '../../state/index.ts';
import type { StrategyName } from '../../strategies/index.ts';
import { DEFAULT_STRATEGIES } from '../../strategies/index.ts';
import type { SqlStatement } from '../../sql/index.ts';
import { tableChecksum } from '../../../fixtures/checksum.ts';
import { expectationFor } from '../../../fixtures/oracle.ts';
import { memorySourceFor, targetBeforeRows } from '../../../fixtures/scenario.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import type { PgModule } from '../../../fixtures/services/postgres-embedded.ts';
import { EmbeddedPostgres, embeddedPostgresInstalled, loadPg } from '../../../fixtures/services/postgres-embedded.ts';
import { sourceFamily } from '../../../matrix/families.ts';
import { evaluateQualityChecks } from '../../../matrix/quality-checks.ts';
import { PostgresDriver } from './postgres-driver.ts';
import { PostgresSink } from './postgres-sink.ts';

/**
 * The PostgreSQL sink against a real server (embedded PostgreSQL 18, one cluster for the file): each
 * strategy loads the fixture's delta into a target seeded with the scenario's target-before rows,
 * in a schema of its own, and the target read back must pass every quality check — which also
 * proves that every wide-column type family round-trips to its canonical value.
 */

const installed = embeddedPostgresInstalled();
const FIXTURE = buildSourceFixture('postgres', { rows: 300, changeRatio: 0.2, deleteRatio: 0.05 });
const CAPABILITIES = sourceFamily('postgres').capabilities;
const STRATEGIES: readonly StrategyName[] = ['incremental_merge', 'full_refresh', 'incremental_append', 'scd2', 'partition_replace'];
const SEED_ROWS_PER_INSERT = 100;

let server: EmbeddedPostgres | undefined;
let pg: PgModule | undefined;
const sinks: PostgresSink[] = [];

/** A sink on its own pool, loading into `schema`, and its driver. */
function sinkIn(schema: string): { sink: PostgresSink; driver: PostgresDriver } {
  if (!server || !pg) throw new Error('embedded PostgreSQL is not running');
  const driver = new PostgresDriver(new pg.Pool({ ...server.connection, max: 2 }));
  const sink = new PostgresSink(driver, { schema });
  sinks.push(sink);
  return { sink, driver };
}

/** Plain multi-row INSERTs of target rows, each value bound through the dialect's conversion. */
function seedStatements(sink: PostgresSink, target: TargetSpec, rows: readonly Row[]): SqlStatement[] {
  const columns = targetSchema(target).columns;
  const compiler = sink.dialect.compiler;
  const table = sink.dialect.qualified(sink.names(target.name).target);
  const list = columns.map((column) => sink.dialect.quote(column.name)).join(', ');
  const statements: SqlStatement[] = [];
  for (let start = 0; start < rows.length; start += SEED_ROWS_PER_INSERT) {
    const chunk = rows.slice(start, start + SEED_ROWS_PER_INSERT);
    const values = chunk.map((_row, r) => `(${columns.map((column, c) => compiler.bindExpression(r * columns.length + c + 1, column)).join(', ')})`);
    statements.push({ sql: `INSERT INTO ${table} (${list}) VALUES\n${values.join(',\n')}`, params: chunk.flat() });
  }
  return statements;
}

/** A target in `schema` as the previous load left it: target-before rows and the base cursor committed. */
async function seeded(strategy: StrategyName, schema: string) {
  const loader = DEFAULT_STRATEGIES.get(strategy);
  const source = memorySourceFor(FIXTURE, CAPABILITIES);
  const { sink, driver } = sinkIn(schema);
  const pipeline = `orders_${schema}`;
  const target: TargetSpec = { name: 'orders', dataSchema: FIXTURE.schema, shape: loader.targetShape('relational') };
  await sink.prepare(target);
  for (const statement of seedStatements(sink, target, targetBeforeRows(FIXTURE, target.shape))) await driver.query(statement);
  await sink.stateStore.commit(pipeline, source.baseCursor());
  const load = (faults?: ReturnType<typeof failOnceAt>): Promise<LoadReport> => runLoad({
    pipeline, source, sink, strategy: loader, stateStore: sink.stateStore, targetName: target.name, faults,
    options: { window: FIXTURE.window, backfill: FIXTURE.backfill },
  });
  const judge = async (report: LoadReport | undefined) => {
    const actual = await sink.read(target);
    const storedState: LoadState = await sink.stateStore.load(pipeline);
    return evaluateQualityChecks({ fixture: FIXTURE, expectation: expectationFor(strategy, 'relational', FIXTURE), actual, load: report, storedState });
  };
  return { sink, target, pipeline, source, load, judge };
}

const failed = (results: readonly { name: string; passed: boolean; detail: string }[]) =>
  results.filter((result) => !result.passed).map((result) => `${result.name}: ${result.detail}`);

describe.skipIf(!installed)(
  installed ? 'PostgresSink on embedded PostgreSQL 18' : 'PostgresSink on embedded PostgreSQL — skipped: embedded PostgreSQL not installed: run pnpm services:install',
  () => {
    beforeAll(async () => {
      server = await EmbeddedPostgres.start();
      pg = await loadPg();
    }, 120_000);

    afterAll(async () => {
      for (const sink of sinks) await sink.close();
      await server?.stop();
    }, 60_000);

    test.each(STRATEGIES)('%s: the target read back passes every quality check', async (strategy) => {
      const load = await seeded(strategy, `s_${strategy}`);
      const report = await load.load();
      expect(report.batches.every((batch) => batch.committed)).toBe(true);
      const judgement = await load.judge(report);
      expect(failed(judgement.results)).toEqual([]);
    }, 60_000);

    test('a fault at reconcile rolls back target and state; a rerun converges', async () => {
      const load = await seeded('incremental_merge', 's_fault');
      const before = tableChecksum((await load.sink.read(load.target)).rows);
      const baseState = await load.sink.stateStore.load(load.pipeline);
      const faults = failOnceAt('reconcile');
      const error = await load.load(faults).then(() => null, (caught: unknown) => caught);
      expect(error).toBeInstanceOf(LoadFailedError);
      expect((error as LoadFailedError).phase).toBe('reconcile');
      expect(faults.fired).toBe(true);
      expect(tableChecksum((await load.sink.read(load.target)).rows)).toEqual(before);
      expect(await load.sink.stateStore.load(load.pipeline)).toEqual(baseState);
      const rerun = await load.load(faults);
      expect(failed((await load.judge(rerun)).results)).toEqual([]);
    }, 60_000);
  },
);
