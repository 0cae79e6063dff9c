import type { CanonicalValue, ColumnDef } from '../../schema/index.ts';
import { columnIndex, META_COLUMNS } from '../../schema/index.ts';
import type { PlanOperation, TargetSpec } from '../../plan/index.ts';
import type { LoadNames, QualifiedName } from '../../sql/names.ts';
import { siblingName } from '../../sql/names.ts';
import type { Binder, ColumnSpec, CompileContext, InsertSpec, TableOptions } from '../../sql/sql-compiler.ts';
import { SqlCompiler } from '../../sql/sql-compiler.ts';
import type { SqlStatement } from '../../sql/sql-statement.ts';
import { sqlText } from '../../sql/sql-statement.ts';

type ReplacePartitions = Extract<PlanOperation, { kind: 'replace_partitions' }>;

/** The statements of the native insert path (see `ClickHouseCompiler.wireLoad`). */
export interface WireLoad {
  /** Drops a leftover wire table and creates it anew. */
  readonly create: SqlStatement[];
  /** Converts the wire rows into the destination table. */
  readonly insert: SqlStatement;
  readonly drop: SqlStatement;
}

/** Mutations run in the background by default; the load must see their result before it reconciles. */
const SYNC_MUTATION = 'SETTINGS mutations_sync = 2';

/** NULL equals NULL inside `IN`: change rows are matched on nullable values. */
const NULLS_MATCH = 'SETTINGS transform_null_in = 1';

/**
 * ClickHouse SQL: typed placeholders (`{p1:Nullable(Int64)}`), `Nullable(…)` columns, MergeTree
 * tables, and — without transactions — operations built from single atomic steps: lightweight
 * deletes, `REPLACE PARTITION`, `EXCHANGE TABLES` and synchronous mutations. A step that fails
 * leaves the earlier ones applied; rerunning the operation from the same staging converges: appends
 * into a changelog skip the change rows the target already holds, every other operation deletes or
 * replaces what it then inserts.
 */
export class ClickHouseCompiler extends SqlCompiler {
  /** Every placeholder is Nullable: staging columns are, and a typed placeholder refuses NULL otherwise. */
  protected override placeholder(index: number, paramType: string): string {
    return `{p${index}:${nullable(paramType)}}`;
  }

  /** The placeholder already declares its type. */
  protected override castParam(placeholder: string): string {
    return placeholder;
  }

  protected override booleanLiteral(value: boolean): string {
    return value ? 'true' : 'false';
  }

  protected override typedNull(column: ColumnDef): string {
    return `CAST(NULL AS ${nullable(this.columnType(column))})`;
  }

  protected override currentTimestamp(): string {
    return 'now64(6)';
  }

  protected override ensureSchema(schema: string | undefined): SqlStatement[] {
    return schema === undefined ? [] : [sqlText(`CREATE DATABASE IF NOT EXISTS ${this.q(schema)}`)];
  }

  protected override columnDefinition(column: ColumnSpec): string {
    return `${this.q(column.name)} ${column.nullable ? nullable(column.type) : column.type}`;
  }

  /** MergeTree tables have a sorting key instead of a primary key constraint. */
  protected override primaryKeyClause(): string | null {
    return null;
  }

  /**
   * Targets are MergeTree partitioned by their partition column (what REPLACE PARTITION exchanges);
   * the state table is a ReplacingMergeTree that keeps the newest commit of each pipeline.
   */
  protected override tableOptions(options: TableOptions, _name: QualifiedName): string {
    const orderBy = `ORDER BY (${options.orderBy.map((column) => this.q(column)).join(', ')})`;
    if (options.role === 'state') return `\nENGINE = ReplacingMergeTree(${this.q('committed_at')})\n${orderBy}`;
    const partition = options.role === 'target' && options.partitionColumn ? `\nPARTITION BY ${this.q(options.partitionColumn)}` : '';
    return `\nENGINE = MergeTree${partition}\n${orderBy}`;
  }

  /** Lightweight delete (a mask applied at once), or a synchronous mutation on servers without it. */
  protected override deleteWhere(table: QualifiedName, condition: string, params: readonly CanonicalValue[]): SqlStatement {
    if (this.capabilities.lightweightDelete) return super.deleteWhere(table, condition, params);
    return { sql: `ALTER TABLE ${this.dialect.qualified(table)}\nDELETE WHERE ${condition}\n${SYNC_MUTATION}`, params };
  }

  /** SCD2 expiry as an UPDATE mutation (re-inserting closed versions would need FINAL on every read). */
  protected override expireCurrentVersions(context: CompileContext, asOf: number): SqlStatement {
    const binder = this.binder();
    const { key, set, where } = this.expiry(context, asOf, binder);
    return { sql: `ALTER TABLE ${this.dialect.qualified(context.names.target)}\nUPDATE ${set}\nWHERE ${where} AND ${key}\n${SYNC_MUTATION}`, params: binder.values };
  }

  /** Swap: build a twin of the target, then EXCHANGE TABLES (atomic in Atomic databases) and drop the old data. */
  protected override atomicReplace(context: CompileContext): SqlStatement[] {
    const target = context.names.target;
    const fresh = siblingName(target, 'dpone_swap');
    return [
      this.dropTable(fresh),
      sqlText(`CREATE TABLE ${this.dialect.qualified(fresh)} AS ${this.dialect.qualified(target)}`),
      this.insertFromStaging(context, { op: 'insert', into: fresh }),
      sqlText(`EXCHANGE TABLES ${this.dialect.qualified(fresh)} AND ${this.dialect.qualified(target)}`),
      sqlText(`DROP TABLE ${this.dialect.qualified(fresh)}`),
    ];
  }

  /**
   * REPLACE PARTITION needs a source with the target's exact structure, so the listed partitions are
   * built in a twin (`CREATE TABLE … AS target`) first. Each listed partition is then replaced from
   * the twin in one atomic step — or dropped when no staged row falls into it, because servers since
   * 26.x refuse to replace from an empty source partition (and older ones silently emptied it).
   * Without the batch every listed partition is assumed to have rows.
   */
  protected override exchangePartitions(operation: ReplacePartitions, context: CompileContext): SqlStatement[] {
    const target = context.names.target;
    const twin = siblingName(target, 'dpone_exchange');
    const column = this.column(context, operation.column);
    const staged = stagedValues(context, operation.column);
    const inList = (negate: boolean) => (binder: Binder) =>
      operation.partitions.length === 0
        ? (negate ? '1 = 1' : '1 = 0')
        : `s.${this.q(column.name)} ${negate ? 'NOT IN' : 'IN'} (${operation.partitions.map((value) => binder.bind(value, column)).join(', ')})`;
    return [
      this.dropTable(twin),
      sqlText(`CREATE TABLE ${this.dialect.qualified(twin)} AS ${this.dialect.qualified(target)}`),
      this.insertFromStaging(context, { op: 'insert', into: twin, where: inList(false) }),
      ...operation.partitions.map((value) => sqlText(staged === undefined || staged.has(value)
        ? `ALTER TABLE ${this.dialect.qualified(target)} REPLACE PARTITION ${this.dialect.literal(value)} FROM ${this.dialect.qualified(twin)}`
        : `ALTER TABLE ${this.dialect.qualified(target)} DROP PARTITION ${this.dialect.literal(value)}`)),
      // Rows outside the listed partitions are plain inserts: left out when the batch has none, so
      // that a rerun of the operation inserts nothing twice.
      ...(staged !== undefined && [...staged].every((value) => operation.partitions.includes(value))
        ? [] : [this.insertFromStaging(context, { op: 'insert', where: inList(true) })]),
      sqlText(`DROP TABLE ${this.dialect.qualified(twin)}`),
    ];
  }

  /**
   * The native insert path: `INSERT … FORMAT TabSeparated` writes canonical values into `wire`, a
   * Memory table typed as the canonical form (each column's parameter type), and one
   * `INSERT … SELECT` converts them into `into` with the same expressions that bind parameters
   * (`fromUnixTimestamp64Micro`, `unhex`, …), so the fast path and the parameterised one agree.
   */
  wireLoad(columns: readonly ColumnDef[], wire: QualifiedName, into: QualifiedName): WireLoad {
    const definitions = columns.map((column) => `  ${this.q(column.name)} ${nullable(this.paramType(column))}`);
    const list = columns.map((column) => this.q(column.name)).join(', ');
    const values = columns.map((column) => this.bindValue(`w.${this.q(column.name)}`, column)).join(', ');
    return {
      create: [this.dropTable(wire), sqlText(`CREATE TABLE ${this.dialect.qualified(wire)} (\n${definitions.join(',\n')}\n)\nENGINE = Memory`)],
      insert: sqlText(`INSERT INTO ${this.dialect.qualified(into)} (${list})\nSELECT ${values}\nFROM ${this.dialect.qualified(wire)} AS w`),
      drop: this.dropTable(wire),
    };
  }

  /**
   * Staged change rows a changelog target already holds (the same op and values): rows an earlier,
   * failed attempt of this batch appended. The sink subtracts them from the count before finalize,
   * so that `row_count_delta` holds on a rerun too.
   */
  countStagedRowsInTarget(target: TargetSpec, names: LoadNames): SqlStatement {
    return sqlText(`SELECT COUNT(*) AS observed FROM ${this.dialect.qualified(names.staging)} AS s\nWHERE ${this.changeRowIn(target, names.target)}\n${NULLS_MATCH}`);
  }

  /** Appends into a changelog skip change rows already there, so a rerun of the batch appends nothing twice. */
  protected override insertFromStaging(context: CompileContext, spec: InsertSpec): SqlStatement {
    if (context.target.shape !== 'changelog' || spec.into !== undefined) return super.insertFromStaging(context, spec);
    const absent = `NOT ${this.changeRowIn(context.target, context.names.target)}`;
    const where = spec.where;
    const insert = super.insertFromStaging(context, { ...spec, where: where ? (binder) => `${where(binder)} AND ${absent}` : () => absent });
    return { sql: `${insert.sql}\n${NULLS_MATCH}`, params: insert.params };
  }

  /**
   * `(s.op, s.c1, …) IN (SELECT t.op, t.c1, … FROM table AS t)`: a changelog row has no row hash,
   * and a change is its op and every value (two changes of a key differ at least in `updated_at`).
   */
  private changeRowIn(target: TargetSpec, table: QualifiedName): string {
    const columns = [META_COLUMNS.op, ...target.dataSchema.columns.map((column) => column.name)].map((column) => this.q(column));
    const of = (alias: string) => columns.map((column) => `${alias}.${column}`).join(', ');
    return `(${of('s')}) IN (SELECT ${of('t')} FROM ${this.dialect.qualified(table)} AS t)`;
  }

  /** The newest state row: until a background merge, the ReplacingMergeTree may still hold older ones. */
  override loadState(pipeline: string, names: LoadNames): SqlStatement {
    const query = super.loadState(pipeline, names);
    return { sql: `${query.sql}\nORDER BY ${this.q('committed_at')} DESC\nLIMIT 1`, params: query.params };
  }
}

/** `Nullable(T)`, or `LowCardinality(Nullable(T))`: LowCardinality must stay outermost. */
function nullable(type: string): string {
  const lowCardinality = /^LowCardinality\((.*)\)$/.exec(type);
  return lowCardinality ? `LowCardinality(Nullable(${lowCardinality[1]}))` : `Nullable(${type})`;
}

/** Partition values that staged rows fall into, when the batch is known. */
function stagedValues(context: CompileContext, column: string): Set<string> | undefined {
  const batch = context.batch;
  if (!batch) return undefined;
  const index = columnIndex(batch.schema, column);
  return new Set(batch.rows.map((row) => String(row[index])));
}
