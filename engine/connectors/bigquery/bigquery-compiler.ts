import type { ColumnDef } from '../../schema/index.ts';
import { targetSchema } from '../../plan/index.ts';
import type { QualifiedName } from '../../sql/names.ts';
import type { ColumnSpec, CompileContext, TableOptions, TransactionStatements } from '../../sql/sql-compiler.ts';
import { SqlCompiler } from '../../sql/sql-compiler.ts';
import type { SqlStatement } from '../../sql/sql-statement.ts';
import { sqlText } from '../../sql/sql-statement.ts';

/** BigQuery clusters by at most four columns. */
const MAX_CLUSTER_COLUMNS = 4;

/**
 * BigQuery SQL: named `@pN` parameters, each cast from the type the client infers for its
 * JavaScript value (a driver binds NULL as STRING, which every cast accepts), informational
 * primary keys, DATE partitioning with clustering on the key, expiring staging tables, MERGE for
 * merges and state, and `CREATE OR REPLACE TABLE … AS SELECT` for swaps.
 */
export class BigQueryCompiler extends SqlCompiler {
  override transactionStatements(): TransactionStatements {
    return { begin: sqlText('BEGIN TRANSACTION'), commit: sqlText('COMMIT TRANSACTION'), rollback: sqlText('ROLLBACK TRANSACTION') };
  }

  protected override placeholder(index: number): string {
    return `@p${index}`;
  }

  protected override primaryKeyClause(keys: readonly string[]): string | null {
    return `PRIMARY KEY (${keys.map((key) => this.q(key)).join(', ')}) NOT ENFORCED`;
  }

  protected override createTableKeyword(options: TableOptions): string {
    return options.orReplace ? 'CREATE OR REPLACE TABLE' : 'CREATE TABLE';
  }

  /**
   * Targets are partitioned by a DATE partition column (partition-scoped DML then touches only the
   * listed days) and clustered by their key; staging tables expire, so a leaked one does not linger.
   */
  protected override tableOptions(options: TableOptions, _name: QualifiedName): string {
    if (options.role === 'staging') return '\nOPTIONS (expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 1 DAY))';
    if (options.role !== 'target') return '';
    const partition = options.partitionColumn && options.partitionFamily === 'date' ? `\nPARTITION BY ${this.q(options.partitionColumn)}` : '';
    const cluster = options.orderBy.slice(0, MAX_CLUSTER_COLUMNS).map((column) => this.q(column)).join(', ');
    return `${partition}\nCLUSTER BY ${cluster}`;
  }

  /**
   * Swap: one `CREATE OR REPLACE TABLE … AS SELECT`, which replaces the target atomically. It is DDL,
   * so it cannot join a multi-statement transaction (`finalizeIsTransactional` says so); the
   * informational primary key is not restated, since table constraints do not combine with AS SELECT.
   */
  protected override atomicReplace(context: CompileContext): SqlStatement[] {
    const binder = this.binder();
    const projection = this.projection(context, { op: 'insert' }, binder);
    const table = this.createTableSql(context.names.target, this.specs(targetSchema(context.target).columns), {
      role: 'target', target: context.target, keys: null, orderBy: this.primaryKey(context.target) ?? [context.target.dataSchema.key],
      ...this.partitioning(context.target), orReplace: true,
    }, false);
    const sql = `${table}\nAS\nSELECT ${projection.values.map((value, index) => `${value} AS ${projection.columns[index] ?? ''}`).join(', ')}\nFROM ${this.dialect.qualified(context.names.staging)} AS s`;
    return [{ sql, params: binder.values }];
  }

  /**
   * The wire table of `columns` (every column a nullable STRING, expiring like staging), created
   * anew. A load job lands canonical text here and `insertFromWire` converts it: a load job cannot
   * convert on the way in (BYTES wants base64; DATETIME, TIME and JSON their own text forms).
   */
  createWireTable(wire: QualifiedName, columns: readonly ColumnDef[]): SqlStatement[] {
    const specs: ColumnSpec[] = columns.map((column) => ({ name: column.name, type: 'STRING', nullable: true }));
    return [this.dropTable(wire), sqlText(this.createTableSql(wire, specs, { role: 'staging', keys: null, orderBy: [] }, false))];
  }

  dropWireTable(wire: QualifiedName): SqlStatement {
    return this.dropTable(wire);
  }
}
