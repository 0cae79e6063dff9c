import type { ColumnDef } from '../../schema/index.ts';
import type { PlanOperation, TargetSpec } from '../../plan/index.ts';
import type { QualifiedName } from '../../sql/names.ts';
import { partitionSuffixes, siblingName } from '../../sql/names.ts';
import type { CompileContext, TableOptions } from '../../sql/sql-compiler.ts';
import { SqlCompiler } from '../../sql/sql-compiler.ts';
import type { SqlStatement } from '../../sql/sql-statement.ts';
import { sqlText } from '../../sql/sql-statement.ts';
import { META_COLUMNS } from '../../schema/index.ts';

type ReplacePartitions = Extract<PlanOperation, { kind: 'replace_partitions' }>;

/**
 * PostgreSQL SQL: the default compiler nearly as is (`$n` placeholders, ON CONFLICT upserts, rename
 * swaps in a transaction), plus `::type` casts, `DELETE … USING` for staged deletes, UNLOGGED
 * staging, and detach/attach of LIST partitions when partition exchange is on.
 */
export class PostgresCompiler extends SqlCompiler {
  /** The native fast path: `COPY <table> (<columns>) FROM STDIN` in text format (see `copyTextChunks`). */
  copyFromStdin(table: QualifiedName, columns: readonly ColumnDef[]): SqlStatement {
    return sqlText(`COPY ${this.dialect.qualified(table)} (${columns.map((column) => this.q(column.name)).join(', ')}) FROM STDIN`);
  }

  protected override castParam(placeholder: string, type: string): string {
    return `${placeholder}::${type}`;
  }

  protected override deleteStagedKeys(context: CompileContext, which: 'deletes' | 'all'): SqlStatement {
    if (which === 'all') return super.deleteStagedKeys(context, which);
    const key = this.q(context.target.dataSchema.key);
    return sqlText([
      `DELETE FROM ${this.dialect.qualified(context.names.target)} AS t`,
      `USING ${this.dialect.qualified(context.names.staging)} AS s`,
      `WHERE t.${key} = s.${key} AND s.${this.q(META_COLUMNS.op)} = 'D'`,
    ].join('\n'));
  }

  protected override stateText(column: string): string {
    return `${column}::text`;
  }

  /** Staging is rebuilt by every load, so it skips the write-ahead log. */
  protected override createTableKeyword(options: TableOptions): string {
    return options.role === 'staging' ? 'CREATE UNLOGGED TABLE' : 'CREATE TABLE';
  }

  /** Exchange-partitioned targets are LIST-partitioned by their partition column, one partition per value. */
  protected override tableOptions(options: TableOptions, _name: QualifiedName): string {
    return options.exchangePartitioned && options.partitionColumn ? ` PARTITION BY LIST (${this.q(options.partitionColumn)})` : '';
  }

  /** A partitioned table's unique keys must include the partition column. */
  /** A partitioned target gets a DEFAULT partition for values whose partition was never exchanged in. */
  protected override createTargetTable(name: QualifiedName, target: TargetSpec, ifNotExists: boolean): SqlStatement[] {
    const statements = super.createTargetTable(name, target, ifNotExists);
    if (!this.exchangesPartitions(target, target.dataSchema.partitionColumn)) return statements;
    const exists = ifNotExists ? ' IF NOT EXISTS' : '';
    return [...statements, sqlText(`CREATE TABLE${exists} ${this.dialect.qualified(defaultPartition(name))} PARTITION OF ${this.dialect.qualified(name)} DEFAULT`)];
  }

  /**
   * A partitioned target is replaced in place (delete + insert in the transaction): a renamed-in
   * table would arrive without the target's partitions.
   */
  protected override swap(context: CompileContext): SqlStatement[] {
    if (!this.exchangesPartitions(context.target, context.target.dataSchema.partitionColumn)) return super.swap(context);
    return [
      sqlText(`DELETE FROM ${this.dialect.qualified(context.names.target)}`),
      this.insertFromStaging(context, { op: 'insert' }),
    ];
  }

  /**
   * The partition-exchange contract: each listed value's partition `<target>__p<value>` is rebuilt
   * as a separate table from staging, the old partition is dropped (which detaches it), rows of that
   * value parked in the DEFAULT partition are removed, and the new table is attached in its place.
   * Staged rows outside the listed partitions are inserted through the parent. Runs in the load's
   * transaction: readers see the old partitions or the new ones, never a mix.
   */
  protected override exchangePartitions(operation: ReplacePartitions, context: CompileContext): SqlStatement[] {
    const target = context.names.target;
    const column = this.column(context, operation.column);
    const reference = (alias?: string) => `${alias ? `${alias}.` : ''}${this.q(column.name)}`;
    const statements: SqlStatement[] = [];
    for (const [value, suffix] of partitionSuffixes(operation.partitions)) {
      const partition = siblingName(target, suffix);
      const incoming = siblingName(partition, 'dpone_in');
      const parked = this.binder();
      statements.push(
        this.dropTable(incoming),
        sqlText(`CREATE TABLE ${this.dialect.qualified(incoming)} (LIKE ${this.dialect.qualified(target)} INCLUDING ALL)`),
        this.insertFromStaging(context, { op: 'insert', into: incoming, where: (binder) => `${reference('s')} = ${binder.bind(value, column)}` }),
        { sql: `DELETE FROM ${this.dialect.qualified(defaultPartition(target))} WHERE ${reference()} = ${parked.bind(value, column)}`, params: parked.values },
        this.dropTable(partition),
        this.renameTable(incoming, partition.name),
        sqlText(`ALTER TABLE ${this.dialect.qualified(target)} ATTACH PARTITION ${this.dialect.qualified(partition)} FOR VALUES IN (${this.dialect.literal(value)})`),
      );
    }
    statements.push(this.insertFromStaging(context, {
      op: 'insert',
      where: (binder) => operation.partitions.length === 0
        ? '1 = 1'
        : `${reference('s')} NOT IN (${operation.partitions.map((value) => binder.bind(value, column)).join(', ')})`,
    }));
    return statements;
  }
}

function defaultPartition(target: QualifiedName): QualifiedName {
  return siblingName(target, 'pdefault');
}
