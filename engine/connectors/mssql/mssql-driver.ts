import type { CanonicalValue } from '../../schema/index.ts';
import type { SqlStatement } from '../../sql/sql-statement.ts';
import type { MssqlWireColumn, MssqlWireType } from './mssql-compiler.ts';

/** A type as the `mssql` type constructors return it (`sql.BigInt()`, `sql.NVarChar(sql.MAX)`); opaque here. */
export type MssqlTypeShape = object;

/** The part of an `mssql` query result the driver reads: with `arrayRowMode`, rows are arrays. */
export interface MssqlResultShape {
  readonly recordset?: readonly (readonly unknown[])[];
}

/** An `mssql` Request: named inputs, a query, or a bulk load. */
export interface MssqlRequestShape {
  /** Rows as arrays in column order (`null`: the pool's setting, which the driver never relies on). */
  arrayRowMode: boolean | null;
  input(name: string, type: MssqlTypeShape, value: unknown): unknown;
  query(command: string): Promise<MssqlResultShape>;
  bulk(table: MssqlTableShape): Promise<unknown>;
}

/** An `mssql` Table for `request.bulk`: columns with their types, rows as value lists. */
export interface MssqlTableShape {
  /** False: the driver creates the table itself (with the compiler's DDL). */
  create: boolean;
  readonly columns: { add(name: string, type: MssqlTypeShape, options: { nullable: boolean }): unknown };
  readonly rows: { add(...values: unknown[]): unknown };
}

/** An `mssql` Transaction: one pooled connection from `begin` to `commit`/`rollback`. */
export interface MssqlTransactionShape {
  begin(isolationLevel?: number): Promise<unknown>;
  commit(): Promise<unknown>;
  rollback(): Promise<unknown>;
  request(): MssqlRequestShape;
}

/** An `mssql` ConnectionPool (connected). The driver never imports `mssql` itself. */
export interface MssqlPoolShape {
  request(): MssqlRequestShape;
  transaction(): MssqlTransactionShape;
  close(): Promise<unknown>;
}

/** What the driver takes from the `mssql` module: bulk-load tables, type constructors, isolation levels. */
export interface MssqlModuleShape {
  readonly Table: new (name: string) => MssqlTableShape;
  readonly MAX: number;
  BigInt(): MssqlTypeShape;
  Float(): MssqlTypeShape;
  Bit(): MssqlTypeShape;
  NVarChar(length: number): MssqlTypeShape;
  readonly ISOLATION_LEVEL: { readonly READ_COMMITTED: number; readonly SNAPSHOT: number };
}

/** Isolation of a transaction: the sink's read committed, or the source's consistent SNAPSHOT reads. */
export type MssqlIsolation = 'read_committed' | 'snapshot';

/** Rows the driver hands to one `request.bulk` (the TDS stream is built per call). */
const BULK_ROWS_PER_CALL = 5_000;

/** The `mssql` error code of a transaction the server already rolled back (XACT_ABORT, a doomed transaction). */
const ABORTED = 'EABORT';

/**
 * A tiny SQL Server driver over an `mssql` ConnectionPool and module handed in by the caller (the
 * engine loads no driver package). Compiled statements bind `@p1…@pN` as named inputs typed by
 * the canonical value's JavaScript kind — text as nvarchar(max), safe integers and bigints as
 * bigint, other numbers as float, booleans as bit — and the SQL converts each into its column type.
 * Between `begin` and `commit`/`rollback` every request runs on the transaction's connection.
 */
export class MssqlDriver {
  private transaction?: MssqlTransactionShape;

  constructor(private readonly pool: MssqlPoolShape, private readonly sql: MssqlModuleShape) {}

  /** Runs one statement; returns its first result set's rows as arrays (null for SQL NULL). */
  async query(statement: SqlStatement): Promise<readonly (readonly unknown[])[]> {
    const request = this.request();
    statement.params.forEach((value, index) => request.input(`p${index + 1}`, this.inputType(value), value));
    const result = await request.query(statement.sql);
    return result.recordset ?? [];
  }

  /** Runs statements in order. */
  async execute(statements: readonly SqlStatement[]): Promise<void> {
    for (const statement of statements) await this.query(statement);
  }

  /** The first column of the first row (a count), or null when there is no row. */
  async scalar(statement: SqlStatement): Promise<unknown> {
    const rows = await this.query(statement);
    return rows[0]?.[0] ?? null;
  }

  /**
   * TDS bulk load of canonical rows into an existing wire table (`table` is its quoted, qualified
   * name), in calls of at most 5,000 rows. Throws when a value is not of its column's wire type.
   */
  async bulkLoad(table: string, columns: readonly MssqlWireColumn[], rows: readonly (readonly CanonicalValue[])[]): Promise<void> {
    for (let start = 0; start < rows.length; start += BULK_ROWS_PER_CALL) {
      const bulk = new this.sql.Table(table);
      bulk.create = false;
      for (const column of columns) bulk.columns.add(column.name, this.wireType(column.type), { nullable: true });
      for (const [offset, row] of rows.slice(start, start + BULK_ROWS_PER_CALL).entries()) {
        if (row.length !== columns.length) throw new Error(`mssql bulk load into ${table}: row ${start + offset} has ${row.length} values, expected ${columns.length}`);
        bulk.rows.add(...row.map((value, index) => wireValue(value, columns[index] as MssqlWireColumn, table)));
      }
      await this.request().bulk(bulk);
    }
  }

  /** True while a transaction is open. */
  get inTransaction(): boolean {
    return this.transaction !== undefined;
  }

  /** Opens a transaction (default read committed); throws when one is already open. */
  async begin(isolation: MssqlIsolation = 'read_committed'): Promise<void> {
    if (this.transaction) throw new Error('mssql driver: a transaction is already open');
    const transaction = this.pool.transaction();
    await transaction.begin(isolation === 'snapshot' ? this.sql.ISOLATION_LEVEL.SNAPSHOT : this.sql.ISOLATION_LEVEL.READ_COMMITTED);
    this.transaction = transaction;
  }

  async commit(): Promise<void> {
    const transaction = this.end('commit');
    await transaction.commit();
  }

  /** Rolls back; a transaction the server already rolled back (mssql `EABORT`) counts as rolled back. */
  async rollback(): Promise<void> {
    const transaction = this.end('rollback');
    try {
      await transaction.rollback();
    } catch (error) {
      if ((error as { code?: unknown }).code !== ABORTED) throw error;
    }
  }

  /** Closes the pool (rolling back an open transaction first). */
  async close(): Promise<void> {
    if (this.transaction) await this.rollback().catch(() => undefined);
    await this.pool.close();
  }

  private end(action: string): MssqlTransactionShape {
    const transaction = this.transaction;
    if (!transaction) throw new Error(`mssql driver: ${action} without an open transaction`);
    this.transaction = undefined;
    return transaction;
  }

  private request(): MssqlRequestShape {
    const request = (this.transaction ?? this.pool).request();
    request.arrayRowMode = true;
    return request;
  }

  private inputType(value: CanonicalValue): MssqlTypeShape {
    if (typeof value === 'boolean') return this.sql.Bit();
    if (typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value))) return this.sql.BigInt();
    if (typeof value === 'number') return this.sql.Float();
    return this.sql.NVarChar(this.sql.MAX);
  }

  private wireType(type: MssqlWireType): MssqlTypeShape {
    switch (type) {
      case 'bigint': return this.sql.BigInt();
      case 'float': return this.sql.Float();
      case 'bit': return this.sql.Bit();
      case 'nvarchar(max)': return this.sql.NVarChar(this.sql.MAX);
    }
  }
}

/** A canonical value checked against its wire column (a mismatch would be converted silently by the client). */
function wireValue(value: CanonicalValue, column: MssqlWireColumn, table: string): CanonicalValue {
  if (value === null) return null;
  const fits = column.type === 'bigint' ? typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value))
    : column.type === 'float' ? typeof value === 'number'
      : column.type === 'bit' ? typeof value === 'boolean'
        : typeof value === 'string';
  if (!fits) throw new Error(`mssql bulk load into ${table}: column ${column.name} (${column.type}) got ${typeof value} ${String(value)}`);
  return value;
}
