import type { CanonicalValue, ColumnDef, Row, TableSchema } from '../schema/index.ts';
import { columnIndex, normalizeValue } from '../schema/index.ts';
import type { ChangeOp, ChangeRecord, KeyValue, RowPredicate, TargetSpec } from '../plan/index.ts';
import { keyOf } from '../plan/index.ts';
import type { LoadState } from '../state/index.ts';
import type { QualifiedName } from '../sql/names.ts';
import { siblingName } from '../sql/names.ts';
import type { SqlDialect } from '../sql/sql-dialect.ts';
import type { SqlStatement } from '../sql/sql-statement.ts';
import { canonicalRow } from './sql-rows.ts';

const INSERTED_AT = 'dpone_inserted_at';
const DELETED_AT = 'dpone_deleted_at';
const JOURNAL_SUFFIX = 'dpone_journal';

/**
 * The journal's table spec: key, insert time, delete time, and the before image (nullable).
 * `insertTimeNullable` is for journals that log an insert and a delete as separate events (ClickHouse's
 * append-only one); a journal of one row per key always has the insert time.
 */
export function journalTarget(table: QualifiedName, schema: TableSchema, insertTimeNullable = false): TargetSpec {
  const keyColumn = schema.columns.find((column) => column.name === schema.key);
  if (!keyColumn) throw new Error(`source journal of ${table.name}: key ${schema.key} is not a column`);
  const columns: ColumnDef[] = [
    keyColumn,
    { name: INSERTED_AT, family: 'timestamp', nullable: insertTimeNullable },
    { name: DELETED_AT, family: 'timestamp', nullable: true },
    ...schema.columns.filter((column) => column.name !== schema.key).map((column) => ({ ...column, nullable: true })),
  ];
  return { name: siblingName(table, JOURNAL_SUFFIX).name, dataSchema: { columns, key: schema.key }, shape: 'plain' };
}

export interface JournaledTableOptions {
  /** Column holding the change time; default `updated_at`. */
  readonly watermarkColumn?: string;
  /** See `journalTarget`; default false. */
  readonly insertTimeNullable?: boolean;
}

/**
 * A source table with its journal as the SQL sources read them (the contract is in each source's
 * doc): quoted names, read lists, decoding of raw rows into canonical ones, the snapshot query and
 * change records. What differs per family — the head position, transactions, op decoding, change
 * order — stays in the source.
 */
export class JournaledTable {
  readonly journal: TargetSpec;
  readonly journalName: QualifiedName;
  readonly keyIndex: number;
  readonly keyColumn: ColumnDef;
  readonly watermarkIndex: number;
  readonly watermarkColumn: ColumnDef;
  readonly insertedAt: ColumnDef;
  readonly deletedAt: ColumnDef;
  /** The table's and the journal's qualified, quoted names. */
  readonly tableSql: string;
  readonly journalSql: string;

  /** @param reader names the source in errors (e.g. `postgres source`). */
  constructor(private readonly dialect: SqlDialect, private readonly reader: string, readonly name: QualifiedName, readonly schema: TableSchema, options: JournaledTableOptions = {}) {
    this.journal = journalTarget(name, schema, options.insertTimeNullable);
    this.journalName = siblingName(name, JOURNAL_SUFFIX);
    this.keyIndex = columnIndex(schema, schema.key);
    this.keyColumn = schema.columns[this.keyIndex] as ColumnDef;
    this.watermarkIndex = columnIndex(schema, options.watermarkColumn ?? 'updated_at');
    this.watermarkColumn = schema.columns[this.watermarkIndex] as ColumnDef;
    [, this.insertedAt, this.deletedAt] = this.journal.dataSchema.columns as [ColumnDef, ColumnDef, ColumnDef];
    this.tableSql = dialect.qualified(name);
    this.journalSql = dialect.qualified(this.journalName);
  }

  q(identifier: string): string {
    return this.dialect.quote(identifier);
  }

  /** The read expressions of `columns` (default the schema's), comma-separated. */
  readList(columns: readonly ColumnDef[] = this.schema.columns): string {
    return columns.map((column) => this.dialect.compiler.readExpression(column)).join(', ');
  }

  /** Canonical, frozen row from raw server values of `columns`, starting at `offset`. */
  decodeRow(raw: readonly unknown[], offset = 0, columns: readonly ColumnDef[] = this.schema.columns): Row {
    return canonicalRow(this.reader, raw, columns, offset);
  }

  /** A raw change time (of the watermark column's family) in UTC micros. */
  watermarkOf(raw: unknown): number {
    return Number(normalizeValue(this.watermarkColumn.family, raw));
  }

  /**
   * The snapshot read: every column of the rows `filter` keeps (all without one), in key order.
   * `never` is the dialect's always-false condition, for an empty `in` filter.
   */
  snapshotQuery(filter: RowPredicate | undefined, never: string): SqlStatement {
    const params: CanonicalValue[] = [];
    const bind = (value: CanonicalValue, column: ColumnDef) => {
      params.push(value);
      return this.dialect.compiler.bindExpression(params.length, column);
    };
    let where = '';
    if (filter) {
      const column = this.schema.columns[columnIndex(this.schema, filter.column)] as ColumnDef;
      const reference = this.q(column.name);
      if (filter.kind === 'between') where = `\nWHERE ${reference} BETWEEN ${bind(filter.lo, column)} AND ${bind(filter.hi, column)}`;
      else where = filter.values.length === 0 ? `\nWHERE ${never}` : `\nWHERE ${reference} IN (${filter.values.map((value) => bind(value, column)).join(', ')})`;
    }
    return { sql: `SELECT ${this.readList()}\nFROM ${this.tableSql}${where}\nORDER BY ${this.q(this.schema.key)}`, params };
  }

  /** The change of a decoded row; `at` defaults to the row's change time and `position` to `at`. */
  change(op: ChangeOp, row: Row, at = Number(row[this.watermarkIndex]), position = String(at)): ChangeRecord {
    return { op, key: keyOf(row, this.keyIndex), row, at, position };
  }

  /** Deletion times of `keys` from the journal, bound in chunks below the dialect's parameter limit. */
  async deletionTimes(driver: { query(statement: SqlStatement): Promise<readonly (readonly unknown[])[]> }, keys: readonly KeyValue[]): Promise<Map<KeyValue, number>> {
    const times = new Map<KeyValue, number>();
    const compiler = this.dialect.compiler;
    const perQuery = this.dialect.capabilities.maxParameters;
    for (let start = 0; start < keys.length; start += perQuery) {
      const chunk = keys.slice(start, start + perQuery);
      const raw = await driver.query({
        sql: `SELECT ${compiler.readExpression(this.keyColumn)}, ${compiler.readExpression(this.deletedAt)}\nFROM ${this.journalSql}\nWHERE ${this.q(this.deletedAt.name)} IS NOT NULL AND ${this.q(this.keyColumn.name)} IN (${chunk.map((_key, i) => compiler.bindExpression(i + 1, this.keyColumn)).join(', ')})`,
        params: [...chunk],
      });
      for (const row of raw) times.set(keyOf(this.decodeRow(row, 0, [this.keyColumn]), 0), this.watermarkOf(row[1]));
    }
    return times;
  }
}

/** The cursor after a watermark read: the newest change time read, or the state's when nothing changed. */
export function watermarkCursor(changes: readonly ChangeRecord[], state: LoadState): LoadState {
  return { watermark: changes.reduce((max, change) => Math.max(max, change.at), state.watermark ?? 0) };
}

/** Orders changes by change time, then key (a change's position when the server keeps no commit order). */
export function byChangeTimeThenKey(a: ChangeRecord, b: ChangeRecord): number {
  return a.at - b.at || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
}

/** The transaction calls `transactionally` needs (a driver's commit and rollback take their defaults). */
export interface TransactionEnds {
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/**
 * Runs `work` between `begin()` and the driver's commit; on failure rolls back (a rollback failure is
 * dropped: the work's error is the one to report) and rethrows.
 */
export async function transactionally<T>(driver: TransactionEnds, begin: () => Promise<void>, work: () => Promise<T>): Promise<T> {
  await begin();
  try {
    const result = await work();
    await driver.commit();
    return result;
  } catch (error) {
    await driver.rollback().catch(() => undefined);
    throw error;
  }
}
