import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import type { ColumnDef, TableSchema } from '../schema/index.ts';
import { META_COLUMNS, TYPE_FAMILIES } from '../schema/index.ts';
import type { LoadPlan, PlanBatch, PlanOperation, StagedBatch, TargetShape, TargetSpec } from '../plan/index.ts';
import { dataRowHash, targetSchema } from '../plan/index.ts';
import type { StrategyName } from '../strategies/index.ts';
import { DEFAULT_STRATEGIES, STRATEGY_NAMES } from '../strategies/index.ts';
import { BigQueryDialect } from '../connectors/bigquery/index.ts';
import { ClickHouseDialect } from '../connectors/clickhouse/index.ts';
import { MssqlDialect } from '../connectors/mssql/index.ts';
import { PostgresDialect } from '../connectors/postgres/index.ts';
import { buildSourceFixture } from '../../fixtures/source-fixture.ts';
import { BUSINESS_COLUMNS } from '../../fixtures/wide-rows.ts';
import { sourceFamily } from '../../matrix/families.ts';
import { MemoryLoadHarness } from '../../matrix/memory-harness.ts';
import type { LoadNames, OperationCompilers, SqlDialect, SqlDialectName, SqlStatement } from './index.ts';
import { DEFAULT_STATE_TABLE, loadNames, renderTypeMappingDoc, SQL_DIALECT_NAMES, sqlDialects, stagingSchema } from './index.ts';

/**
 * The SQL every dialect compiles for every strategy's plan, pinned side by side (one snapshot per
 * strategy holding the four dialects), plus behavioural checks that can fail: type coverage,
 * quoting, placeholders, parameter limits and the operations a dialect must refuse.
 *
 * Readability: the pinned finalize/reconcile SQL is compiled for a review copy of each target that
 * keeps the business columns only; the 120 wide columns only lengthen the column lists (a test
 * below compiles the full-width plans and checks they have the same statements). The wide column
 * types are pinned by the full-width DDL snapshot and docs/type-mapping.md.
 */

const PIPELINE = 'orders';
const FIXTURE = buildSourceFixture('postgres', { rows: 1000, changeRatio: 0.2, deleteRatio: 0.05 });
const DIALECTS = sqlDialects();
const SCHEMA = 'landing';

async function planFor(strategy: StrategyName): Promise<LoadPlan> {
  const loader = DEFAULT_STRATEGIES.get(strategy);
  const harness = new MemoryLoadHarness(FIXTURE, PIPELINE, sourceFamily('postgres').capabilities, 'relational', loader);
  return loader.plan({
    pipeline: PIPELINE, source: harness.source, sink: harness.sink, target: harness.target,
    state: await harness.stateStore.load(PIPELINE), options: { window: FIXTURE.window, backfill: FIXTURE.backfill },
  });
}

const PLANS = new Map<StrategyName, LoadPlan>(await Promise.all(STRATEGY_NAMES.map(async (name) => [name, await planFor(name)] as const)));

function plan(strategy: StrategyName): LoadPlan {
  const found = PLANS.get(strategy);
  if (!found) throw new Error(`no plan for ${strategy}`);
  return found;
}

const namesFor = (target: TargetSpec, batch: PlanBatch): LoadNames => loadNames(target.name, batch.staging.name, { schema: SCHEMA });

/** The review copy of a schema: business columns only (the wide payload follows them in every row). */
function narrow(schema: TableSchema): TableSchema {
  return { ...schema, columns: schema.columns.slice(0, BUSINESS_COLUMNS.length) };
}

function narrowBatch(batch: StagedBatch): StagedBatch {
  return { ...batch, schema: narrow(batch.schema), rows: batch.rows.map((row) => row.slice(0, BUSINESS_COLUMNS.length)) };
}

function render(statements: readonly SqlStatement[]): string {
  return statements.map((statement) => {
    const sql = statement.sql.endsWith(';') ? statement.sql : `${statement.sql};`;
    return statement.params.length > 0 ? `${sql}\n-- params: ${JSON.stringify(statement.params, bigintText)}` : sql;
  }).join('\n\n');
}

function bigintText(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** Every batch of a plan: its finalize statements per operation, then one query per reconcile check. */
function compilePlan(dialect: SqlDialect, loadPlan: LoadPlan, review: boolean): string {
  const target = review ? { ...loadPlan.target, dataSchema: narrow(loadPlan.target.dataSchema) } : loadPlan.target;
  return loadPlan.batches.map((batch) => {
    const names = namesFor(target, batch);
    const staged = review ? narrowBatch(batch.staging) : batch.staging;
    const finalize = batch.operations.map((operation) =>
      `-- finalize ${operation.kind}\n${render(dialect.compiler.finalize(operation, target, names, staged))}`);
    const reconcile = batch.reconcile.map((check) =>
      `-- reconcile ${check.kind}\n${render([dialect.compiler.reconcile(check, target, names)])}`);
    return [`-- batch ${batch.id} (${batch.staging.rows.length} staged rows)`, ...finalize, ...reconcile].join('\n\n');
  }).join('\n\n');
}

function byDialect(compile: (dialect: SqlDialect) => string, dialects: readonly SqlDialect[] = DIALECTS): Record<string, string> {
  return Object.fromEntries(dialects.map((dialect) => [dialect.name, compile(dialect)]));
}

describe('finalize and reconcile SQL per strategy (pinned)', () => {
  test.each(STRATEGY_NAMES)('%s', (strategy) => {
    expect(byDialect((dialect) => compilePlan(dialect, plan(strategy), true))).toMatchSnapshot();
  });

  test('full-width plans compile to the same statements, each write naming every target column', () => {
    for (const strategy of STRATEGY_NAMES) {
      const loadPlan = plan(strategy);
      const columns = targetSchema(loadPlan.target).columns.map((column) => column.name);
      for (const dialect of DIALECTS) {
        const full = compilePlan(dialect, loadPlan, false);
        const reviewed = compilePlan(dialect, loadPlan, true);
        expect(full.split('\n\n').length, `${strategy} on ${dialect.name}`).toBe(reviewed.split('\n\n').length);
        const inserts = loadPlan.batches.flatMap((batch) => batch.operations.flatMap((operation) =>
          dialect.compiler.finalize(operation, loadPlan.target, namesFor(loadPlan.target, batch), batch.staging)))
          .filter((statement) => /^(INSERT INTO|MERGE INTO|CREATE OR REPLACE TABLE)/.test(statement.sql));
        expect(inserts.length, `${strategy} on ${dialect.name}`).toBeGreaterThan(0);
        for (const insert of inserts) {
          for (const column of columns) expect(insert.sql, `${strategy} ${dialect.name} ${column}`).toContain(dialect.quote(column));
        }
      }
    }
  });
});

describe('lifecycle statements (pinned)', () => {
  const SHAPES: readonly TargetShape[] = ['plain', 'changelog', 'hashed', 'scd2'];
  const batch = plan('incremental_merge').batches[0] as PlanBatch;
  const target = (shape: TargetShape): TargetSpec => ({ name: PIPELINE, dataSchema: narrow(FIXTURE.schema), shape });
  const names = namesFor(target('plain'), batch);

  test('targets of every shape, staging, state table and state commit', () => {
    expect(byDialect((dialect) => [
      ...SHAPES.map((shape) => `-- createTarget (${shape})\n${render(dialect.compiler.createTarget(target(shape), names))}`),
      `-- createStaging\n${render(dialect.compiler.createStaging(narrow(FIXTURE.schema), names))}`,
      `-- validateStaging\n${render([dialect.compiler.validateStaging(names)])}`,
      `-- dropStaging\n${render([dialect.compiler.dropStaging(names)])}`,
      `-- createStateTable\n${render(dialect.compiler.createStateTable(names))}`,
      `-- commitState\n${render([dialect.compiler.commitState(PIPELINE, batch.nextState, names)])}`,
      `-- loadState\n${render([dialect.compiler.loadState(PIPELINE, names)])}`,
      `-- transaction\n${((transaction) => transaction ? render([transaction.begin, transaction.commit, transaction.rollback]) : '-- not supported: no multi-statement transactions')(dialect.compiler.transactionStatements())}`,
      `-- selectTarget (scd2)\n${render([dialect.compiler.selectTarget(target('scd2'), names)])}`,
    ].join('\n\n'))).toMatchSnapshot();
  });

  test('the full-width target table: the physical type of every wide column', () => {
    const wide: TargetSpec = { name: PIPELINE, dataSchema: FIXTURE.schema, shape: 'plain' };
    expect(byDialect((dialect) => render(dialect.compiler.createTarget(wide, names)))).toMatchSnapshot();
  });

  test('stageInsert of a two-row batch (SQL text only)', () => {
    const twoRows: StagedBatch = { ...batch.staging, rows: batch.staging.rows.slice(0, 2), ops: batch.staging.ops?.slice(0, 2) };
    expect(byDialect((dialect) => dialect.compiler.stageInsert(twoRows, names).sql)).toMatchSnapshot();
  });

  test('bind and read conversion of every type family', () => {
    expect(byDialect((dialect) => TYPE_FAMILIES.map((family) => {
      const column: ColumnDef = { name: 'v', family, nullable: true };
      return `${family}: ${dialect.columnType(family)}\n  in:  ${dialect.compiler.bindExpression(1, column)}\n  out: ${dialect.compiler.readExpression(column)}`;
    }).join('\n'))).toMatchSnapshot();
  });

  test('partition exchange and mutation variants', () => {
    const variants = [
      new PostgresDialect({ partitionExchange: true }),
      new MssqlDialect({ partitionExchange: true }),
      new ClickHouseDialect({ lightweightDelete: false }),
    ];
    const partitionPlan = plan('partition_replace');
    const swapPlan = plan('full_refresh');
    const mergePlan = plan('incremental_merge');
    const reviewTarget = { ...partitionPlan.target, dataSchema: narrow(partitionPlan.target.dataSchema) };
    expect(Object.fromEntries(variants.map((dialect) => [
      `${dialect.name} ${JSON.stringify({ partitionExchange: dialect.capabilities.partitionExchange, lightweightDelete: dialect.capabilities.lightweightDelete })}`,
      [
        `-- createTarget\n${render(dialect.compiler.createTarget(reviewTarget, names))}`,
        compilePlan(dialect, partitionPlan, true),
        compilePlan(dialect, swapPlan, true),
        compilePlan(dialect, mergePlan, true),
      ].join('\n\n'),
    ]))).toMatchSnapshot();
  });
});

describe('type mapping', () => {
  test('every type family has a physical type in every dialect', () => {
    expect(DIALECTS.map((dialect) => dialect.name)).toEqual([...SQL_DIALECT_NAMES]);
    for (const dialect of DIALECTS) {
      expect(Object.keys(dialect.types).sort()).toEqual([...TYPE_FAMILIES].sort());
      for (const family of TYPE_FAMILIES) {
        const type = dialect.columnType(family);
        expect(type, `${dialect.name} ${family}`).toMatch(/^[A-Za-z][\w ]*(\(.*\))?(\[\])?$/);
        expect(type).not.toContain('undefined');
      }
    }
    expect(TYPE_FAMILIES).toHaveLength(59);
  });

  test('the wide target DDL declares every column of the fixture', () => {
    const wide: TargetSpec = { name: PIPELINE, dataSchema: FIXTURE.schema, shape: 'plain' };
    for (const dialect of DIALECTS) {
      const ddl = dialect.compiler.createTarget(wide, loadNames(PIPELINE, 'stg')).map((statement) => statement.sql).join('\n');
      for (const column of FIXTURE.schema.columns) {
        const line = ddl.split('\n').find((candidate) => candidate.startsWith(`  ${dialect.quote(column.name)} `));
        expect(line, `${dialect.name} ${column.name}`).toBeDefined();
        // ClickHouse wraps nullable columns (Nullable, or inside LowCardinality); the others write the type as is.
        const bare = (line ?? '').replace(/Nullable\((.*)\)/, '$1');
        expect(bare, `${dialect.name} ${column.name}`).toContain(dialect.columnType(column.family).replace(/^LowCardinality\((.*)\)$/, '$1'));
      }
    }
  });

  test('an unknown family is refused with its name', () => {
    for (const dialect of DIALECTS) expect(() => dialect.columnType('money2' as never)).toThrow(/money2/);
  });

  test('docs/type-mapping.md is the rendered mapping', () => {
    const committed = readFileSync(new URL('../../docs/type-mapping.md', import.meta.url), 'utf8');
    expect(committed).toBe(renderTypeMappingDoc());
  });
});

describe('identifiers', () => {
  const cases: Record<SqlDialectName, readonly [string, string][]> = {
    postgres: [['orders', '"orders"'], ['we"ird', '"we""ird"'], ['a""b', '"a""""b"']],
    mssql: [['orders', '[orders]'], ['we]ird', '[we]]ird]'], ['[x]', '[[x]]]']],
    clickhouse: [['orders', '`orders`'], ['we`ird', '`we\\`ird`'], ['back\\slash', '`back\\\\slash`']],
    bigquery: [['orders', '`orders`'], ['we`ird', '`we\\`ird`'], ['back\\slash', '`back\\\\slash`']],
  };

  test.each(DIALECTS.map((dialect) => [dialect.name, dialect] as const))('%s quotes and escapes the quote character', (name, dialect) => {
    for (const [identifier, quoted] of cases[name]) expect(dialect.quote(identifier)).toBe(quoted);
    expect(dialect.qualified({ schema: 'etl_state', name: '__dpone__loads' })).toBe(`${dialect.quote('etl_state')}.${dialect.quote('__dpone__loads')}`);
  });

  test('empty, NUL and over-long identifiers are refused (Postgres would truncate silently)', () => {
    for (const dialect of DIALECTS) {
      expect(() => dialect.quote('')).toThrow(/empty/);
      expect(() => dialect.quote('a\u0000b')).toThrow(/NUL/);
      expect(() => dialect.quote('x'.repeat(dialect.capabilities.maxIdentifierLength + 1))).toThrow(/longer than/);
    }
    expect(new PostgresDialect().quote('x'.repeat(63))).toHaveLength(65);
    expect(() => new PostgresDialect().quote('é'.repeat(32))).toThrow(/64 bytes/);
  });

  test('the state table defaults to etl_state.__dpone__loads', () => {
    expect(loadNames('orders', 'stg_1').state).toEqual({ schema: 'etl_state', name: '__dpone__loads' });
    expect(DEFAULT_STATE_TABLE).toEqual({ schema: 'etl_state', name: '__dpone__loads' });
  });
});

describe('staging inserts', () => {
  const batch = plan('incremental_merge').batches[0] as PlanBatch;
  const names = namesFor(plan('incremental_merge').target, batch);
  const twoRows: StagedBatch = { ...batch.staging, rows: batch.staging.rows.slice(0, 2), ops: batch.staging.ops?.slice(0, 2) };
  const placeholderPattern: Record<SqlDialectName, RegExp> = {
    postgres: /\$(\d+)(?!\d)/g,
    mssql: /@p(\d+)(?!\d)/g,
    clickhouse: /\{p(\d+):[^}]+\}/g,
    bigquery: /@p(\d+)(?!\d)/g,
  };

  test.each(DIALECTS.map((dialect) => [dialect.name, dialect] as const))('%s numbers its placeholders 1..n in order', (name, dialect) => {
    const statement = dialect.compiler.stageInsert(twoRows, names);
    const width = stagingSchema(batch.staging.schema).columns.length;
    expect(statement.params).toHaveLength(2 * width);
    const seen = [...statement.sql.matchAll(placeholderPattern[name])].map((match) => Number(match[1]));
    const firstUses = [...new Set(seen)];
    expect(firstUses).toEqual(Array.from({ length: statement.params.length }, (_, i) => i + 1));
    // Other dialects' placeholder styles must not leak in.
    for (const other of SQL_DIALECT_NAMES.filter((candidate) => candidate !== name && placeholderPattern[candidate].source !== placeholderPattern[name].source)) {
      expect(statement.sql, `${name} uses ${other} placeholders`).not.toMatch(placeholderPattern[other]);
    }
  });

  test('parameters are the canonical row values, then the op and the row hash', () => {
    const row = twoRows.rows[0] ?? [];
    for (const dialect of DIALECTS) {
      const { params } = dialect.compiler.stageInsert(twoRows, names);
      expect(params.slice(0, row.length)).toEqual([...row]);
      expect(params.slice(row.length, row.length + 2)).toEqual([twoRows.ops?.[0] ?? 'I', dataRowHash(row)]);
    }
  });

  test('stageInserts splits a batch under the parameter limit and keeps every row', () => {
    const width = stagingSchema(batch.staging.schema).columns.length;
    for (const dialect of DIALECTS) {
      const statements = dialect.compiler.stageInserts(batch.staging, names);
      expect(statements.every((statement) => statement.params.length <= dialect.capabilities.maxParameters)).toBe(true);
      expect(statements.reduce((sum, statement) => sum + statement.params.length, 0)).toBe(batch.staging.rows.length * width);
    }
    expect(new MssqlDialect().compiler.stageInserts(batch.staging, names)[0]?.params.length).toBe(Math.floor(2000 / width) * width);
    expect(() => new MssqlDialect().compiler.stageInsert(batch.staging, names)).toThrow(/stageInserts/);
    expect(() => new PostgresDialect().compiler.stageInsert({ ...batch.staging, rows: [] }, names)).toThrow(/no rows/);
  });

  test('staging keeps deletes: every batch column but the key is nullable, op and hash are not', () => {
    const staging = stagingSchema(FIXTURE.schema);
    expect(staging.columns.filter((column) => !column.nullable).map((column) => column.name)).toEqual(['id', META_COLUMNS.op, META_COLUMNS.rowHash]);
  });
});

describe('operations a dialect must refuse or special-case', () => {
  const target: TargetSpec = { name: PIPELINE, dataSchema: narrow(FIXTURE.schema), shape: 'plain' };
  const names = loadNames(PIPELINE, 'stg_1', { schema: SCHEMA });

  test('emit_events is an event-log operation for every SQL dialect', () => {
    for (const dialect of DIALECTS) {
      for (const mode of ['changelog', 'upsert'] as const) {
        expect(() => dialect.compiler.finalize({ kind: 'emit_events', mode }, target, names)).toThrow(/event-log operation/);
      }
    }
  });

  test('an unknown IR kind does not compile, and is refused at run time', () => {
    // @ts-expect-error a compiler table must handle every PlanOperation kind
    const partial: OperationCompilers = { append: () => [] };
    expect(partial).toBeDefined();
    for (const dialect of DIALECTS) {
      // @ts-expect-error 'truncate' is not a PlanOperation kind
      expect(() => dialect.compiler.finalize({ kind: 'truncate' }, target, names)).toThrow(/unknown plan operation kind "truncate"/);
    }
  });

  test('merge needs a keyed target and scd2_expire_insert an scd2 one', () => {
    for (const dialect of DIALECTS) {
      expect(() => dialect.compiler.finalize({ kind: 'merge' }, { ...target, shape: 'changelog' }, names)).toThrow(/merge needs a target of shape plain or hashed/);
      expect(() => dialect.compiler.finalize({ kind: 'scd2_expire_insert', asOf: 0 }, target, names)).toThrow(/scd2/);
    }
  });

  test('ClickHouse drops a listed partition that staged no rows instead of replacing it from nothing', () => {
    const operation: PlanOperation = { kind: 'replace_partitions', column: 'business_date', partitions: ['2024-01-01', '2030-01-01'] };
    const staged: StagedBatch = { name: 'stg_1', schema: target.dataSchema, rows: [[1, '2024-01-01', '1', 'open', 0, 1]] };
    const sql = new ClickHouseDialect().compiler.finalize(operation, target, names, staged).map((statement) => statement.sql);
    expect(sql).toContain("ALTER TABLE `landing`.`orders` REPLACE PARTITION '2024-01-01' FROM `landing`.`orders__dpone_exchange`");
    expect(sql).toContain("ALTER TABLE `landing`.`orders` DROP PARTITION '2030-01-01'");
  });

  test('an empty partition list deletes nothing (no invalid IN ())', () => {
    for (const dialect of DIALECTS) {
      const statements = dialect.compiler.finalize({ kind: 'replace_partitions', column: 'business_date', partitions: [] }, target, names);
      expect(statements.map((statement) => statement.sql).join('\n')).not.toMatch(/IN \(\)/);
    }
  });

  test('transactions: finalize joins the sink transaction only where its DDL is transactional too', () => {
    const swap: PlanOperation = { kind: 'swap' };
    const merge: PlanOperation = { kind: 'merge' };
    const verdicts = Object.fromEntries(DIALECTS.map((dialect) => [dialect.name, [
      dialect.compiler.finalizeIsTransactional(merge, target), dialect.compiler.finalizeIsTransactional(swap, target),
    ]]));
    expect(verdicts).toEqual({ postgres: [true, true], mssql: [true, true], clickhouse: [false, false], bigquery: [true, false] });
    expect(new ClickHouseDialect().compiler.transactionStatements()).toBeNull();
  });

  test('merge picks ON CONFLICT, MERGE or delete+insert from the capability flags', () => {
    const first = (dialect: SqlDialect) => dialect.compiler.finalize({ kind: 'merge' }, target, names).map((statement) => statement.sql.split('\n')[0]);
    expect(first(new PostgresDialect())).toEqual(['DELETE FROM "landing"."orders" AS t', 'INSERT INTO "landing"."orders" ("id", "business_date", "amount", "status", "updated_at", "row_version")']);
    expect(first(new PostgresDialect({ upsert: false }))).toEqual(['MERGE INTO "landing"."orders" AS t']);
    expect(first(new PostgresDialect({ upsert: false, merge: false }))).toEqual(['DELETE FROM "landing"."orders"', 'INSERT INTO "landing"."orders" ("id", "business_date", "amount", "status", "updated_at", "row_version")']);
    expect(first(new BigQueryDialect())).toEqual(['MERGE INTO `landing`.`orders` AS t']);
  });
});
