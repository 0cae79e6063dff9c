import type { CanonicalValue, ColumnDef, Row, TableSchema, TypeFamily } from '../schema/index.ts';
import { META_COLUMNS, stableJson } from '../schema/index.ts';
import type {
  PlanOperation, PlanOperationKind, ReconcileCheck, RowPredicate, StagedBatch, TargetShape, TargetSpec,
} from '../plan/index.ts';
import { dataRowHash, targetSchema } from '../plan/index.ts';
import type { LoadState } from '../state/index.ts';
import type { LoadNames, QualifiedName } from './names.ts';
import { siblingName } from './names.ts';
import type { SqlCapabilities, SqlDialect } from './sql-dialect.ts';
import type { SqlStatement } from './sql-statement.ts';
import { sqlText } from './sql-statement.ts';

type OperationOf<K extends PlanOperationKind> = Extract<PlanOperation, { kind: K }>;
type CheckKind = ReconcileCheck['kind'];
type CheckOf<K extends CheckKind> = Extract<ReconcileCheck, { kind: K }>;

/** What an operation or check compiler works with besides the node itself. */
export interface CompileContext {
  readonly target: TargetSpec;
  readonly names: LoadNames;
  /** Target columns: the source columns, then the metadata columns of the target's shape. */
  readonly columns: readonly ColumnDef[];
  /** The staged batch when the caller has it (ClickHouse tells empty partitions from filled ones). */
  readonly batch?: StagedBatch;
}

/**
 * One compiler per IR node kind. The mapped type is exhaustive over the IR union: a new
 * `PlanOperation` kind does not compile until every dialect's compiler handles it.
 */
export type OperationCompilers = {
  readonly [K in PlanOperationKind]: (operation: OperationOf<K>, context: CompileContext) => SqlStatement[];
};

/** One compiler per reconcile check kind; each yields a query returning a single number. */
export type CheckCompilers = {
  readonly [K in CheckKind]: (check: CheckOf<K>, context: CompileContext) => SqlStatement;
};

/** Statements that open, commit and roll back a transaction, for dialects that have them. */
export interface TransactionStatements {
  readonly begin: SqlStatement;
  readonly commit: SqlStatement;
  readonly rollback: SqlStatement;
}

/** Collects the parameters of one statement and returns the SQL that reads each one. */
export interface Binder {
  readonly values: CanonicalValue[];
  /** A canonical value converted into the physical type of `column`. */
  bind(value: CanonicalValue, column: ColumnDef): string;
  /** A value cast to an explicit type (state table, metadata columns). */
  bindAs(value: CanonicalValue, type: string): string;
}

/** How the rows a finalize step inserts are built from staging. */
export interface InsertSpec {
  /** `staged`: `__dpone__op` comes from staging; `insert`: every row is an insert ('I'). */
  readonly op: 'staged' | 'insert';
  /** `__dpone__valid_from` of scd2 rows (UTC micros); operations other than scd2 use the epoch. */
  readonly validFrom?: number;
  /** Only staged rows that are not deletes. */
  readonly skipDeletes?: boolean;
  /** Extra staging filter; binds its values after the projection's. */
  readonly where?: (binder: Binder) => string;
  /** Table to insert into; default the target. */
  readonly into?: QualifiedName;
}

const OP = META_COLUMNS.op;
const ROW_HASH = META_COLUMNS.rowHash;
const DELETE_OP = 'D';

/** Columns of the state table, in order. */
export const STATE_COLUMNS = ['pipeline', 'state', 'load_id', 'committed_at'] as const;

/**
 * The columns of a staging table: the batch columns, then `__dpone__op` and `__dpone__row_hash`.
 * Every batch column but the key is nullable, because deletes stage key-only rows. The row hash is
 * computed while staging, since SQL cannot compute the engine's xxHash64 of the canonical encoding.
 */
export function stagingSchema(schema: TableSchema): TableSchema {
  return {
    ...schema,
    columns: [
      ...schema.columns.map((column) => ({ ...column, nullable: column.name !== schema.key })),
      { name: OP, family: 'char', nullable: false },
      { name: ROW_HASH, family: 'char', nullable: false },
    ],
  };
}

/**
 * The default compiler: standard SQL for every IR node, with small protected hooks (placeholders,
 * casts, DDL tails, MERGE hints, renames, partition exchange) that dialect compilers override.
 * Every public method is pure: it returns statements and never touches a database.
 */
export class SqlCompiler {
  /** Most rows one VALUES list may hold (SQL Server refuses more than 1,000). */
  protected readonly maxRowsPerInsert: number = 1000;

  private readonly operations: OperationCompilers = {
    append: (_operation, context) => [this.insertFromStaging(context, { op: 'staged' })],
    merge: (_operation, context) => this.merge(context),
    replace_window: (operation, context) => this.replaceWindow(operation, context),
    replace_partitions: (operation, context) => this.replacePartitions(operation, context),
    scd2_expire_insert: (operation, context) => this.scd2ExpireInsert(operation, context),
    swap: (_operation, context) => this.swap(context),
    emit_events: (operation) => {
      throw new Error(`emit_events (mode ${operation.mode}) is an event-log operation; the ${this.dialect.name} SQL dialect cannot compile it`);
    },
  };

  private readonly checks: CheckCompilers = {
    row_count: (check, context) => this.countRows(context, check.predicate),
    // A plain count: the sink subtracts the count it took in prepare, before finalize ran.
    row_count_delta: (_check, context) => this.countRows(context),
    keys_present: (_check, context) => this.countStagedKeysInTarget(context, 'upserts'),
    keys_absent: (_check, context) => this.countStagedKeysInTarget(context, 'deletes'),
    current_rows: (_check, context) => this.countCurrentRows(context),
  };

  constructor(protected readonly dialect: SqlDialect) {}

  protected get capabilities(): SqlCapabilities {
    return this.dialect.capabilities;
  }

  // ── public API ────────────────────────────────────────────────────────────────────────────────

  /** Ensures the target's schema and table exist (`CREATE … IF NOT EXISTS`); never drops data. */
  createTarget(target: TargetSpec, names: LoadNames): SqlStatement[] {
    return [...this.ensureSchema(names.target.schema), ...this.createTargetTable(names.target, target, true)];
  }

  /** Drops any staging left by an earlier attempt (the name is deterministic per load) and creates it anew. */
  createStaging(schema: TableSchema, names: LoadNames): SqlStatement[] {
    const staging = stagingSchema(schema);
    const table = this.createTableSql(names.staging, this.specs(staging.columns), { role: 'staging', keys: null, orderBy: [schema.key] }, false);
    return [...this.ensureSchema(names.staging.schema), this.dropTable(names.staging), sqlText(table)];
  }

  /**
   * A parameterised multi-row INSERT of a whole batch into staging, used when no native fast path
   * applies. Throws when the batch needs more parameters than the dialect allows (use `stageInserts`).
   */
  stageInsert(batch: StagedBatch, names: LoadNames): SqlStatement {
    const width = stagingSchema(batch.schema).columns.length;
    if (batch.rows.length === 0) throw new Error(`staging batch ${batch.name} has no rows to insert`);
    const parameters = batch.rows.length * width;
    if (parameters > this.capabilities.maxParameters || batch.rows.length > this.maxRowsPerInsert) {
      throw new Error(`staging batch ${batch.name} needs ${parameters} parameters in ${batch.rows.length} rows; ${this.dialect.name} allows ${this.capabilities.maxParameters} in ${this.maxRowsPerInsert} rows (use stageInserts)`);
    }
    return this.insertRows(batch, 0, batch.rows.length, names);
  }

  /** The batch as as many multi-row INSERTs as the dialect's parameter limit requires (none when empty). */
  stageInserts(batch: StagedBatch, names: LoadNames): SqlStatement[] {
    const width = stagingSchema(batch.schema).columns.length;
    const perStatement = Math.max(1, Math.min(this.maxRowsPerInsert, Math.floor(this.capabilities.maxParameters / width)));
    const statements: SqlStatement[] = [];
    for (let start = 0; start < batch.rows.length; start += perStatement) {
      statements.push(this.insertRows(batch, start, Math.min(batch.rows.length, start + perStatement), names));
    }
    return statements;
  }

  /** Counts the staged rows (compared with the batch size before finalize). */
  validateStaging(names: LoadNames): SqlStatement {
    return sqlText(`SELECT COUNT(*) AS staged_rows FROM ${this.dialect.qualified(names.staging)}`);
  }

  /**
   * The statements of one IR operation, in order. `batch` is optional; ClickHouse uses it to empty
   * listed partitions that staged no rows instead of replacing them from an empty source.
   */
  finalize(operation: PlanOperation, target: TargetSpec, names: LoadNames, batch?: StagedBatch): SqlStatement[] {
    const compile = this.operations[operation.kind] as OperationCompilers[PlanOperationKind] | undefined;
    if (!compile) throw new Error(`unknown plan operation kind ${JSON.stringify((operation as { kind: unknown }).kind)}`);
    return (compile as (operation: PlanOperation, context: CompileContext) => SqlStatement[])(operation, this.context(target, names, batch));
  }

  /**
   * True when `operation` may run inside the sink's transaction: the dialect has transactions and
   * the operation's DDL (swap, partition exchange), if any, is transactional too.
   */
  finalizeIsTransactional(operation: PlanOperation, target: TargetSpec): boolean {
    if (!this.capabilities.transactions) return false;
    return this.capabilities.transactionalDdl || !this.usesDdl(operation, target);
  }

  /** One query returning a single number (column `observed`) that the sink compares with the check. */
  reconcile(check: ReconcileCheck, target: TargetSpec, names: LoadNames): SqlStatement {
    const compile = this.checks[check.kind] as CheckCompilers[CheckKind] | undefined;
    if (!compile) throw new Error(`unknown reconcile check kind ${JSON.stringify((check as { kind: unknown }).kind)}`);
    return (compile as (check: ReconcileCheck, context: CompileContext) => SqlStatement)(check, this.context(target, names));
  }

  /** Ensures the state table (`etl_state.__dpone__loads` by default) exists. */
  createStateTable(names: LoadNames): SqlStatement[] {
    const meta = this.dialect.metaTypes;
    const columns: ColumnSpec[] = [
      { name: 'pipeline', type: meta.pipeline, nullable: false },
      { name: 'state', type: meta.state, nullable: false },
      { name: 'load_id', type: meta.loadId, nullable: true },
      { name: 'committed_at', type: meta.committedAt, nullable: false },
    ];
    const table = this.createTableSql(names.state, columns, { role: 'state', keys: ['pipeline'], orderBy: ['pipeline'] }, true);
    return [...this.ensureSchema(names.state.schema), sqlText(table)];
  }

  /** Upserts the pipeline's state row (state as sorted-key JSON, its load id, the commit time). */
  commitState(pipeline: string, state: LoadState, names: LoadNames): SqlStatement {
    return this.upsertState(pipeline, stableJson(state), state.loadId ?? null, names);
  }

  /** Reads the pipeline's state JSON (no row: the pipeline has never committed). */
  loadState(pipeline: string, names: LoadNames): SqlStatement {
    const binder = this.binder();
    const pipelineParam = binder.bindAs(pipeline, this.dialect.metaTypes.pipeline);
    return { sql: `SELECT ${this.stateText(this.q('state'))} AS ${this.q('state')} FROM ${this.dialect.qualified(names.state)} WHERE ${this.q('pipeline')} = ${pipelineParam}`, params: binder.values };
  }

  /**
   * Converts rows a bulk fast path landed in a wire table (canonical values in the wire types a
   * dialect chooses) into `into`, through the same conversions a bound parameter gets: one
   * INSERT … SELECT, for fast paths that cannot convert on the way in.
   */
  insertFromWire(into: QualifiedName, wire: QualifiedName, columns: readonly ColumnDef[]): SqlStatement {
    return sqlText([
      `INSERT INTO ${this.dialect.qualified(into)} (${columns.map((column) => this.q(column.name)).join(', ')})`,
      `SELECT ${columns.map((column) => this.bindValue(`w.${this.q(column.name)}`, column)).join(', ')}`,
      `FROM ${this.dialect.qualified(wire)} AS w`,
    ].join('\n'));
  }

  /** Drops the batch's staging table; safe after a failure at any phase. */
  dropStaging(names: LoadNames): SqlStatement {
    return this.dropTable(names.staging);
  }

  /** Reads the target back with every column converted to a form `normalizeValue` turns into the canonical value. */
  selectTarget(target: TargetSpec, names: LoadNames): SqlStatement {
    const columns = targetSchema(target).columns;
    const list = columns.map((column) => `${this.readValue(column, this.q(column.name))} AS ${this.q(column.name)}`);
    return sqlText(`SELECT ${list.join(', ')}\nFROM ${this.dialect.qualified(names.target)}`);
  }

  /** BEGIN/COMMIT/ROLLBACK, or null when the dialect has no transactions. */
  transactionStatements(): TransactionStatements | null {
    if (!this.capabilities.transactions) return null;
    return { begin: sqlText('BEGIN'), commit: sqlText('COMMIT'), rollback: sqlText('ROLLBACK') };
  }

  /** SQL that reads parameter `index` (1-based), holding a canonical value, as the physical type of `column`. */
  bindExpression(index: number, column: ColumnDef): string {
    return this.bindValue(this.placeholder(index, this.paramType(column)), column);
  }

  /** SQL that reads `column` back in a form `normalizeValue` maps to its canonical value. */
  readExpression(column: ColumnDef): string {
    return this.readValue(column, this.q(column.name));
  }

  // ── IR nodes ──────────────────────────────────────────────────────────────────────────────────

  /**
   * merge = delete the staged 'D' keys and upsert the rest. Dialects with `INSERT … ON CONFLICT`
   * (and a primary key on the business key alone) delete then upsert; dialects with MERGE use one
   * MERGE with a delete branch; the rest delete every staged key and insert the non-deletes.
   */
  protected merge(context: CompileContext): SqlStatement[] {
    this.requireShape(context, 'merge', ['plain', 'hashed']);
    const key = [context.target.dataSchema.key];
    if (this.capabilities.upsert && sameColumns(this.primaryKey(context.target), key)) {
      return [this.deleteStagedKeys(context, 'deletes'), this.upsert(context)];
    }
    if (this.capabilities.merge) return [this.mergeStatement(context)];
    return [this.deleteStagedKeys(context, 'all'), this.insertFromStaging(context, { op: 'staged', skipDeletes: true })];
  }

  /** replace_window: delete target rows in the inclusive range, then insert every staged row. */
  protected replaceWindow(operation: OperationOf<'replace_window'>, context: CompileContext): SqlStatement[] {
    const binder = this.binder();
    const condition = this.predicateSql(operation.predicate, context, binder);
    return [this.deleteWhere(context.names.target, condition, binder.values), this.insertFromStaging(context, { op: 'insert' })];
  }

  /**
   * replace_partitions: the listed partitions end up holding exactly the staged rows. With partition
   * exchange (and a target partitioned by that column) whole partitions are swapped; otherwise the
   * listed partitions are deleted and the staged rows inserted.
   */
  protected replacePartitions(operation: OperationOf<'replace_partitions'>, context: CompileContext): SqlStatement[] {
    if (this.exchangesPartitions(context.target, operation.column)) return this.exchangePartitions(operation, context);
    const binder = this.binder();
    const condition = this.predicateSql({ kind: 'in', column: operation.column, values: operation.partitions }, context, binder);
    return [this.deleteWhere(context.names.target, condition, binder.values), this.insertFromStaging(context, { op: 'insert' })];
  }

  /**
   * scd2_expire_insert: close the current version of every staged key at `asOf`, then insert the
   * non-deleted staged rows as new current versions valid from `asOf`.
   */
  protected scd2ExpireInsert(operation: OperationOf<'scd2_expire_insert'>, context: CompileContext): SqlStatement[] {
    this.requireShape(context, 'scd2_expire_insert', ['scd2']);
    return [
      this.expireCurrentVersions(context, operation.asOf),
      this.insertFromStaging(context, { op: 'staged', validFrom: operation.asOf, skipDeletes: true }),
    ];
  }

  /** swap: the staged snapshot becomes the target; by rename inside a transaction where DDL is transactional. */
  protected swap(context: CompileContext): SqlStatement[] {
    return this.capabilities.transactionalDdl ? this.renameSwap(context) : this.atomicReplace(context);
  }

  /** Builds the new table beside the target, then renames old out and new in (one transaction). */
  protected renameSwap(context: CompileContext): SqlStatement[] {
    const target = context.names.target;
    const fresh = siblingName(target, 'dpone_swap');
    const old = siblingName(target, 'dpone_old');
    return [
      this.dropTable(fresh),
      ...this.createTargetTable(fresh, context.target, false),
      this.insertFromStaging(context, { op: 'insert', into: fresh }),
      this.renameTable(target, old.name),
      this.renameTable(fresh, target.name),
      sqlText(`DROP TABLE ${this.dialect.qualified(old)}`),
    ];
  }

  /** A swap for engines without transactional DDL; each such dialect supplies its own atomic form. */
  protected atomicReplace(_context: CompileContext): SqlStatement[] {
    throw new Error(`${this.dialect.name}: swap needs transactional DDL or an atomic table replace, and this dialect has neither`);
  }

  /** Partition exchange; dialects with `partitionExchange` override it. */
  protected exchangePartitions(_operation: OperationOf<'replace_partitions'>, _context: CompileContext): SqlStatement[] {
    throw new Error(`${this.dialect.name}: partition exchange is not implemented`);
  }

  // ── statement builders (hooks) ────────────────────────────────────────────────────────────────

  /** `INSERT INTO target (…) SELECT <target row> FROM staging`, the shared tail of most operations. */
  protected insertFromStaging(context: CompileContext, spec: InsertSpec): SqlStatement {
    const binder = this.binder();
    const projection = this.projection(context, spec, binder);
    const filters = [
      spec.skipDeletes ? `s.${this.q(OP)} <> '${DELETE_OP}'` : undefined,
      spec.where?.(binder),
    ].filter((filter): filter is string => filter !== undefined);
    const sql = lines(
      `INSERT INTO ${this.dialect.qualified(spec.into ?? context.names.target)} (${projection.columns.join(', ')})`,
      `SELECT ${projection.values.join(', ')}`,
      `FROM ${this.dialect.qualified(context.names.staging)} AS s`,
      filters.length > 0 ? `WHERE ${filters.join(' AND ')}` : undefined,
    );
    return { sql, params: binder.values };
  }

  /**
   * The target row built from a staging row `s`: source columns as staged, then the shape's metadata
   * (op, row hash, SCD2 validity), mirroring `toTargetRow`.
   */
  protected projection(context: CompileContext, spec: InsertSpec, binder: Binder): { columns: string[]; values: string[] } {
    const columns: string[] = [];
    const values: string[] = [];
    for (const column of context.columns) {
      columns.push(this.q(column.name));
      switch (column.name) {
        case OP:
          values.push(spec.op === 'staged' ? `s.${this.q(OP)}` : this.dialect.literal('I'));
          break;
        case ROW_HASH:
          values.push(`s.${this.q(ROW_HASH)}`);
          break;
        case META_COLUMNS.validFrom:
          values.push(binder.bind(spec.validFrom ?? 0, column));
          break;
        case META_COLUMNS.validTo:
          values.push(this.typedNull(column));
          break;
        case META_COLUMNS.isCurrent:
          values.push(this.booleanLiteral(true));
          break;
        default:
          values.push(`s.${this.q(column.name)}`);
      }
    }
    return { columns, values };
  }

  /** Deletes target rows whose key is staged: only the 'D' rows, or every staged key. */
  protected deleteStagedKeys(context: CompileContext, which: 'deletes' | 'all'): SqlStatement {
    const key = this.q(context.target.dataSchema.key);
    const filter = which === 'deletes' ? ` WHERE s.${this.q(OP)} = '${DELETE_OP}'` : '';
    return this.deleteWhere(context.names.target, `${key} IN (SELECT s.${key} FROM ${this.dialect.qualified(context.names.staging)} AS s${filter})`, []);
  }

  /** `DELETE FROM table WHERE condition`; dialects without row deletes override it. */
  protected deleteWhere(table: QualifiedName, condition: string, params: readonly CanonicalValue[]): SqlStatement {
    return { sql: `DELETE FROM ${this.dialect.qualified(table)}\nWHERE ${condition}`, params };
  }

  /** `INSERT … SELECT … ON CONFLICT (key) DO UPDATE` of the staged non-deletes. */
  protected upsert(context: CompileContext): SqlStatement {
    const insert = this.insertFromStaging(context, { op: 'staged', skipDeletes: true });
    const key = context.target.dataSchema.key;
    const updates = context.columns
      .filter((column) => column.name !== key)
      .map((column) => `${this.q(column.name)} = EXCLUDED.${this.q(column.name)}`);
    return { sql: `${insert.sql}\nON CONFLICT (${this.q(key)}) DO UPDATE SET ${updates.join(', ')}`, params: insert.params };
  }

  /** One MERGE: matched 'D' rows are deleted, other matches updated, unmatched non-deletes inserted. */
  protected mergeStatement(context: CompileContext): SqlStatement {
    const binder = this.binder();
    const projection = this.projection(context, { op: 'staged' }, binder);
    const key = context.target.dataSchema.key;
    const updates = projection.columns
      .map((column, index) => ({ column, value: projection.values[index] ?? 'NULL' }))
      .filter(({ column }) => column !== this.q(key))
      .map(({ column, value }) => `${column} = ${value}`);
    const op = `s.${this.q(OP)}`;
    const sql = lines(
      `MERGE INTO ${this.dialect.qualified(context.names.target)}${this.mergeTargetHint()} AS t`,
      `USING ${this.dialect.qualified(context.names.staging)} AS s`,
      `ON t.${this.q(key)} = s.${this.q(key)}`,
      `WHEN MATCHED AND ${op} = '${DELETE_OP}' THEN DELETE`,
      `WHEN MATCHED THEN UPDATE SET ${updates.join(', ')}`,
      `WHEN NOT MATCHED AND ${op} <> '${DELETE_OP}' THEN INSERT (${projection.columns.join(', ')}) VALUES (${projection.values.join(', ')})${this.mergeTerminator()}`,
    );
    return { sql, params: binder.values };
  }

  /** Table hint after the MERGE target (SQL Server: HOLDLOCK, against concurrent inserts of a key). */
  protected mergeTargetHint(): string {
    return '';
  }

  /** What ends a MERGE (SQL Server requires a semicolon). */
  protected mergeTerminator(): string {
    return '';
  }

  /** Closes the current versions of the staged keys at `asOf`. */
  protected expireCurrentVersions(context: CompileContext, asOf: number): SqlStatement {
    const binder = this.binder();
    const { key, set, where } = this.expiry(context, asOf, binder);
    return { sql: lines(`UPDATE ${this.dialect.qualified(context.names.target)}`, `SET ${set}`, `WHERE ${where} AND ${key}`), params: binder.values };
  }

  /** The parts of an SCD2 expiry, shared by UPDATE and ClickHouse's ALTER TABLE … UPDATE. */
  protected expiry(context: CompileContext, asOf: number, binder: Binder): { set: string; where: string; key: string } {
    const validTo = this.column(context, META_COLUMNS.validTo);
    const isCurrent = this.q(META_COLUMNS.isCurrent);
    const key = this.q(context.target.dataSchema.key);
    return {
      set: `${this.q(validTo.name)} = ${binder.bind(asOf, validTo)}, ${isCurrent} = ${this.booleanLiteral(false)}`,
      where: `${isCurrent} = ${this.booleanLiteral(true)}`,
      key: `${key} IN (SELECT s.${key} FROM ${this.dialect.qualified(context.names.staging)} AS s)`,
    };
  }

  /** `ALTER TABLE … RENAME TO …` (the new name stays in the same schema). */
  protected renameTable(from: QualifiedName, to: string): SqlStatement {
    return sqlText(`ALTER TABLE ${this.dialect.qualified(from)} RENAME TO ${this.q(to)}`);
  }

  protected dropTable(name: QualifiedName): SqlStatement {
    return sqlText(`DROP TABLE IF EXISTS ${this.dialect.qualified(name)}`);
  }

  /** `CREATE SCHEMA IF NOT EXISTS`, when a schema is named. */
  protected ensureSchema(schema: string | undefined): SqlStatement[] {
    return schema === undefined ? [] : [sqlText(`CREATE SCHEMA IF NOT EXISTS ${this.q(schema)}`)];
  }

  /** The target table (and whatever a dialect needs with it, e.g. a default partition). */
  protected createTargetTable(name: QualifiedName, target: TargetSpec, ifNotExists: boolean): SqlStatement[] {
    const keys = this.primaryKey(target);
    const orderBy = keys ?? [target.dataSchema.key];
    const table = this.createTableSql(name, this.specs(targetSchema(target).columns), {
      role: 'target', target, keys, orderBy, ...this.partitioning(target),
      exchangePartitioned: this.exchangesPartitions(target, target.dataSchema.partitionColumn),
    }, ifNotExists);
    return [sqlText(table)];
  }

  /** The target's partition column and its family, when it has one. */
  protected partitioning(target: TargetSpec): { partitionColumn?: string; partitionFamily?: TypeFamily } {
    const name = target.dataSchema.partitionColumn;
    const column = target.dataSchema.columns.find((candidate) => candidate.name === name);
    return column ? { partitionColumn: column.name, partitionFamily: column.family } : {};
  }

  /**
   * Primary key of a target: the business key, except that SCD2 keeps many versions of a key (key
   * and valid_from) and a changelog many rows per key (none). A target that exchanges partitions
   * also keys on the partition column where the dialect requires it (`partitionColumnInKey`).
   */
  protected primaryKey(target: TargetSpec): string[] | null {
    const shapeKeys: Record<TargetShape, string[] | null> = {
      plain: [target.dataSchema.key],
      hashed: [target.dataSchema.key],
      scd2: [target.dataSchema.key, META_COLUMNS.validFrom],
      changelog: null,
    };
    const keys = shapeKeys[target.shape];
    const column = target.dataSchema.partitionColumn;
    if (!keys || !column || !this.capabilities.partitionColumnInKey || !this.exchangesPartitions(target, column) || keys.includes(column)) return keys;
    return [...keys, column];
  }

  /** `CREATE TABLE` with column definitions, the primary key clause and the dialect's table options. */
  protected createTableSql(name: QualifiedName, columns: readonly ColumnSpec[], options: TableOptions, ifNotExists: boolean): string {
    const definitions = columns.map((column) => `  ${this.columnDefinition(column)}`);
    const primaryKey = options.keys ? this.primaryKeyClause(options.keys) : null;
    if (primaryKey) definitions.push(`  ${primaryKey}`);
    for (const constraint of options.constraints ?? []) definitions.push(`  ${constraint}`);
    const head = `${this.createTableKeyword(options)}${ifNotExists ? ' IF NOT EXISTS' : ''} ${this.dialect.qualified(name)}`;
    return `${head} (\n${definitions.join(',\n')}\n)${this.tableOptions(options, name)}`;
  }

  /** `CREATE TABLE` (Postgres: staging is UNLOGGED). */
  protected createTableKeyword(_options: TableOptions): string {
    return 'CREATE TABLE';
  }

  /** What follows the column list: engine, partitioning, clustering, expiry. */
  protected tableOptions(_options: TableOptions, _name: QualifiedName): string {
    return '';
  }

  protected primaryKeyClause(keys: readonly string[]): string | null {
    return `PRIMARY KEY (${keys.map((key) => this.q(key)).join(', ')})`;
  }

  protected columnDefinition(column: ColumnSpec): string {
    return `${this.q(column.name)} ${column.type}${column.suffix ? ` ${column.suffix}` : ''}${column.nullable ? '' : ' NOT NULL'}`;
  }

  /** Column definitions of engine columns: physical type, DDL suffix and nullability. */
  protected specs(columns: readonly ColumnDef[]): ColumnSpec[] {
    return columns.map((column) => {
      const suffix = this.metaType(column) === undefined ? this.dialect.familyType(column.family).suffix : undefined;
      return { name: column.name, type: this.columnType(column), nullable: column.nullable, ...(suffix ? { suffix } : {}) };
    });
  }

  /**
   * The state row upsert: `INSERT … ON CONFLICT` where available, else a MERGE, else a plain insert
   * (engines without either keep the newest row per pipeline themselves, e.g. ReplacingMergeTree).
   */
  protected upsertState(pipeline: string, stateJson: string, loadId: string | null, names: LoadNames): SqlStatement {
    const binder = this.binder();
    const meta = this.dialect.metaTypes;
    const values = [binder.bindAs(pipeline, meta.pipeline), binder.bindAs(stateJson, meta.state), binder.bindAs(loadId, meta.loadId), this.currentTimestamp()];
    const columns = STATE_COLUMNS.map((column) => this.q(column));
    const table = this.dialect.qualified(names.state);
    if (this.capabilities.upsert) {
      const updates = columns.slice(1).map((column) => `${column} = EXCLUDED.${column}`);
      const sql = lines(
        `INSERT INTO ${table} (${columns.join(', ')})`,
        `VALUES (${values.join(', ')})`,
        `ON CONFLICT (${this.q('pipeline')}) DO UPDATE SET ${updates.join(', ')}`,
      );
      return { sql, params: binder.values };
    }
    if (this.capabilities.merge) {
      const source = columns.map((column, index) => `${values[index] ?? 'NULL'} AS ${column}`);
      const sql = lines(
        `MERGE INTO ${table}${this.mergeTargetHint()} AS t`,
        `USING (SELECT ${source.join(', ')}) AS s`,
        `ON t.${this.q('pipeline')} = s.${this.q('pipeline')}`,
        `WHEN MATCHED THEN UPDATE SET ${columns.slice(1).map((column) => `${column} = s.${column}`).join(', ')}`,
        `WHEN NOT MATCHED THEN INSERT (${columns.join(', ')}) VALUES (${columns.map((column) => `s.${column}`).join(', ')})${this.mergeTerminator()}`,
      );
      return { sql, params: binder.values };
    }
    return { sql: `INSERT INTO ${table} (${columns.join(', ')})\nSELECT ${values.join(', ')}`, params: binder.values };
  }

  /** The state column as JSON text (Postgres keeps it as jsonb, which drivers would parse). */
  protected stateText(column: string): string {
    return column;
  }

  /** The server's current time, for `committed_at`. */
  protected currentTimestamp(): string {
    return 'CURRENT_TIMESTAMP';
  }

  // ── reconcile ─────────────────────────────────────────────────────────────────────────────────

  protected countRows(context: CompileContext, predicate?: RowPredicate): SqlStatement {
    const binder = this.binder();
    const where = predicate ? `\nWHERE ${this.predicateSql(predicate, context, binder)}` : '';
    return { sql: `SELECT COUNT(*) AS observed FROM ${this.dialect.qualified(context.names.target)}${where}`, params: binder.values };
  }

  /**
   * Staged keys (upserts: I/U rows; deletes: D rows) found among the target's current keys. The
   * strategies stage exactly the keys a keys_present/keys_absent check lists, so the sink compares
   * this count with the check's key count (present) or with 0 (absent).
   */
  protected countStagedKeysInTarget(context: CompileContext, which: 'upserts' | 'deletes'): SqlStatement {
    const key = this.q(context.target.dataSchema.key);
    const current = this.hasColumn(context, META_COLUMNS.isCurrent)
      ? ` WHERE t.${this.q(META_COLUMNS.isCurrent)} = ${this.booleanLiteral(true)}`
      : '';
    const op = `s.${this.q(OP)} ${which === 'deletes' ? '=' : '<>'} '${DELETE_OP}'`;
    return sqlText(lines(
      `SELECT COUNT(*) AS observed FROM ${this.dialect.qualified(context.names.staging)} AS s`,
      `WHERE ${op} AND s.${key} IN (SELECT t.${key} FROM ${this.dialect.qualified(context.names.target)} AS t${current})`,
    ));
  }

  /** Current versions (`__dpone__is_current`); every row when the target keeps no history. */
  protected countCurrentRows(context: CompileContext): SqlStatement {
    const where = this.hasColumn(context, META_COLUMNS.isCurrent)
      ? `\nWHERE ${this.q(META_COLUMNS.isCurrent)} = ${this.booleanLiteral(true)}`
      : '';
    return sqlText(`SELECT COUNT(*) AS observed FROM ${this.dialect.qualified(context.names.target)}${where}`);
  }

  // ── values, types and names ──────────────────────────────────────────────────────────────────

  /** The placeholder of parameter `index` (1-based); ClickHouse placeholders carry their type. */
  protected placeholder(index: number, _paramType: string): string {
    return `$${index}`;
  }

  /** A placeholder cast to `type`. */
  protected castParam(placeholder: string, type: string): string {
    return `CAST(${placeholder} AS ${type})`;
  }

  /** The type a placeholder of `column` declares (only ClickHouse's typed placeholders use it). */
  protected paramType(column: ColumnDef): string {
    return this.metaType(column) ?? this.dialect.familyType(column.family).paramType ?? this.columnType(column);
  }

  protected bindValue(placeholder: string, column: ColumnDef): string {
    const meta = this.metaType(column);
    const mapping = meta === undefined ? this.dialect.familyType(column.family) : undefined;
    return mapping?.bind ? mapping.bind(placeholder) : this.castParam(placeholder, meta ?? this.columnType(column));
  }

  protected readValue(column: ColumnDef, reference: string): string {
    const mapping = this.metaType(column) === undefined ? this.dialect.familyType(column.family) : undefined;
    return mapping?.read ? mapping.read(reference) : reference;
  }

  /** Physical type of a column: metadata columns have their own, the rest follow their family. */
  protected columnType(column: ColumnDef): string {
    return this.metaType(column) ?? this.dialect.columnType(column.family);
  }

  protected metaType(column: ColumnDef): string | undefined {
    if (column.name === OP) return this.dialect.metaTypes.op;
    if (column.name === ROW_HASH) return this.dialect.metaTypes.rowHash;
    return undefined;
  }

  protected typedNull(column: ColumnDef): string {
    return `CAST(NULL AS ${this.columnType(column)})`;
  }

  protected booleanLiteral(value: boolean): string {
    return value ? 'TRUE' : 'FALSE';
  }

  /** A condition that is never true (an empty IN list is not valid SQL). */
  protected falseCondition(): string {
    return '1 = 0';
  }

  protected q(identifier: string): string {
    return this.dialect.quote(identifier);
  }

  protected binder(): Binder {
    const values: CanonicalValue[] = [];
    return {
      values,
      bind: (value, column) => {
        values.push(value);
        return this.bindValue(this.placeholder(values.length, this.paramType(column)), column);
      },
      bindAs: (value, type) => {
        values.push(value);
        return this.castParam(this.placeholder(values.length, type), type);
      },
    };
  }

  /** A row predicate over target columns, values bound with the column's conversion. */
  protected predicateSql(predicate: RowPredicate, context: CompileContext, binder: Binder, alias?: string): string {
    const column = this.column(context, predicate.column);
    const reference = alias === undefined ? this.q(column.name) : `${alias}.${this.q(column.name)}`;
    if (predicate.kind === 'between') {
      return `${reference} BETWEEN ${binder.bind(predicate.lo, column)} AND ${binder.bind(predicate.hi, column)}`;
    }
    if (predicate.values.length === 0) return this.falseCondition();
    return `${reference} IN (${predicate.values.map((value) => binder.bind(value, column)).join(', ')})`;
  }

  /** True when partitions of `column` are replaced by exchange: the flag, and a target partitioned by it. */
  protected exchangesPartitions(target: TargetSpec, column: string | undefined): boolean {
    return this.capabilities.partitionExchange && column !== undefined && target.dataSchema.partitionColumn === column;
  }

  protected column(context: CompileContext, name: string): ColumnDef {
    const column = context.columns.find((candidate) => candidate.name === name);
    if (!column) throw new Error(`column ${name} is not in target ${context.target.name} (shape ${context.target.shape})`);
    return column;
  }

  protected hasColumn(context: CompileContext, name: string): boolean {
    return context.columns.some((column) => column.name === name);
  }

  private requireShape(context: CompileContext, operation: PlanOperationKind, shapes: readonly TargetShape[]): void {
    if (!shapes.includes(context.target.shape)) {
      throw new Error(`${operation} needs a target of shape ${shapes.join(' or ')}; ${context.target.name} is ${context.target.shape}`);
    }
  }

  private usesDdl(operation: PlanOperation, target: TargetSpec): boolean {
    if (operation.kind === 'swap') return true;
    return operation.kind === 'replace_partitions' && this.exchangesPartitions(target, operation.column);
  }

  private context(target: TargetSpec, names: LoadNames, batch?: StagedBatch): CompileContext {
    return { target, names, columns: targetSchema(target).columns, batch };
  }

  private insertRows(batch: StagedBatch, start: number, end: number, names: LoadNames): SqlStatement {
    const columns = stagingSchema(batch.schema).columns;
    const dataWidth = batch.schema.columns.length;
    const binder = this.binder();
    const rows: string[] = [];
    for (let index = start; index < end; index++) {
      const row = batch.rows[index] as Row;
      if (row.length !== dataWidth) throw new Error(`staging batch ${batch.name} row ${index} has ${row.length} values, expected ${dataWidth}`);
      const values: CanonicalValue[] = [...row, batch.ops?.[index] ?? 'I', dataRowHash(row)];
      rows.push(`(${values.map((value, i) => binder.bind(value, columns[i] as ColumnDef)).join(', ')})`);
    }
    const sql = lines(
      `INSERT INTO ${this.dialect.qualified(names.staging)} (${columns.map((column) => this.q(column.name)).join(', ')})`,
      'VALUES',
      rows.map((row) => `  ${row}`).join(',\n'),
    );
    return { sql, params: binder.values };
  }
}

/** One column of a CREATE TABLE. */
export interface ColumnSpec {
  readonly name: string;
  readonly type: string;
  /** DDL after the type (a collation). */
  readonly suffix?: string;
  readonly nullable: boolean;
}

/** Table-level choices the DDL of a dialect may need. */
export interface TableOptions {
  readonly role: 'target' | 'staging' | 'state';
  /** The target a target table is created for (its name may differ: swap and exchange tables). */
  readonly target?: TargetSpec;
  /** Primary key columns, or null (changelog targets, staging). */
  readonly keys: readonly string[] | null;
  /** Sort key for engines that need one (ClickHouse ORDER BY). */
  readonly orderBy: readonly string[];
  readonly partitionColumn?: string;
  readonly partitionFamily?: TypeFamily;
  /** The target's partitions are exchanged whole (Postgres LIST partitions, SQL Server partition scheme). */
  readonly exchangePartitioned?: boolean;
  /** `CREATE OR REPLACE TABLE` (BigQuery's atomic swap). */
  readonly orReplace?: boolean;
  /** Extra table constraints (the CHECK of a SQL Server switch-in table). */
  readonly constraints?: readonly string[];
}

function lines(...parts: (string | undefined)[]): string {
  return parts.filter((part): part is string => part !== undefined && part !== '').join('\n');
}

function sameColumns(a: readonly string[] | null, b: readonly string[]): boolean {
  return a !== null && a.length === b.length && a.every((column, index) => column === b[index]);
}
