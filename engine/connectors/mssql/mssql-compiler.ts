import type { ColumnDef, TypeFamily } from '../../schema/index.ts';
import type { PlanOperation, TargetSpec } from '../../plan/index.ts';
import type { QualifiedName } from '../../sql/names.ts';
import { siblingName } from '../../sql/names.ts';
import type { ColumnSpec, CompileContext, TableOptions, TransactionStatements } from '../../sql/sql-compiler.ts';
import { SqlCompiler } from '../../sql/sql-compiler.ts';
import type { SqlStatement } from '../../sql/sql-statement.ts';
import { sqlText } from '../../sql/sql-statement.ts';
import { targetSchema } from '../../plan/index.ts';

type ReplacePartitions = Extract<PlanOperation, { kind: 'replace_partitions' }>;

const FILEGROUP = '[PRIMARY]';

/**
 * How a canonical value travels to SQL Server in a bulk load: the canonical form as is, in one of
 * four wire types. `normalizeValue` gives these families JS numbers (times as microseconds);
 * booleans travel as bit, floats as float, and everything else is canonical text.
 */
export type MssqlWireType = 'bigint' | 'float' | 'bit' | 'nvarchar(max)';

const NUMBER_FAMILIES: ReadonlySet<TypeFamily> = new Set<TypeFamily>([
  'tinyint', 'smallint', 'integer', 'unsigned_integer', 'oid', 'nullable', 'interval', 'time',
  'timestamp', 'timestamptz', 'datetime', 'smalldatetime', 'datetime2', 'datetimeoffset',
]);

/** The wire type of a column: what its canonical values are (see `normalizeValue`). */
export function mssqlWireType(column: ColumnDef): MssqlWireType {
  if (NUMBER_FAMILIES.has(column.family)) return 'bigint';
  if (column.family === 'real' || column.family === 'float') return 'float';
  if (column.family === 'boolean') return 'bit';
  return 'nvarchar(max)';
}

/** One column of a bulk-load (wire) table. */
export interface MssqlWireColumn {
  readonly name: string;
  readonly type: MssqlWireType;
}

/**
 * SQL Server SQL: `@pN` parameters, bit literals, `MERGE … WITH (HOLDLOCK)` (without the hint two
 * concurrent merges can both insert a key), `IF OBJECT_ID(…) IS NULL` instead of `IF NOT EXISTS`,
 * sp_rename swaps, and `ALTER TABLE … SWITCH` partition exchange on a daily partition scheme.
 */
export class MssqlCompiler extends SqlCompiler {
  override transactionStatements(): TransactionStatements {
    return { begin: sqlText('BEGIN TRANSACTION'), commit: sqlText('COMMIT TRANSACTION'), rollback: sqlText('ROLLBACK TRANSACTION') };
  }

  protected override placeholder(index: number): string {
    return `@p${index}`;
  }

  protected override booleanLiteral(value: boolean): string {
    return value ? '1' : '0';
  }

  protected override mergeTargetHint(): string {
    return ' WITH (HOLDLOCK)';
  }

  protected override mergeTerminator(): string {
    return ';';
  }

  /** UTC, like every canonical instant (CURRENT_TIMESTAMP is the server's local time). */
  protected override currentTimestamp(): string {
    return 'SYSUTCDATETIME()';
  }

  /** CREATE SCHEMA must be alone in its batch, hence EXEC. */
  protected override ensureSchema(schema: string | undefined): SqlStatement[] {
    if (schema === undefined) return [];
    return [sqlText(`IF SCHEMA_ID(${this.dialect.literal(schema)}) IS NULL EXEC(${this.dialect.literal(`CREATE SCHEMA ${this.q(schema)}`)})`)];
  }

  protected override createTableSql(name: QualifiedName, columns: readonly ColumnSpec[], options: TableOptions, ifNotExists: boolean): string {
    const table = super.createTableSql(name, columns, options, false);
    return ifNotExists ? `IF OBJECT_ID(${this.dialect.literal(this.dialect.qualified(name))}, N'U') IS NULL\n${table}` : table;
  }

  /** Explicit NULL: the default nullability of a column depends on session settings. */
  protected override columnDefinition(column: ColumnSpec): string {
    const definition = super.columnDefinition(column);
    return column.nullable ? `${definition} NULL` : definition;
  }

  protected override renameTable(from: QualifiedName, to: string): SqlStatement {
    return sqlText(`EXEC sp_rename ${this.dialect.literal(this.dialect.qualified(from))}, ${this.dialect.literal(to)}`);
  }

  protected override tableOptions(options: TableOptions, name: QualifiedName): string {
    if (!options.exchangePartitioned || !options.partitionColumn || !options.target) return '';
    return ` ON ${this.q(this.schemeName(name.schema, options.target))}(${this.q(options.partitionColumn)})`;
  }

  /** Daily partitions need a date column: the exchange builds one partition per day. */
  protected override exchangesPartitions(target: TargetSpec, column: string | undefined): boolean {
    const family = target.dataSchema.columns.find((candidate) => candidate.name === column)?.family;
    return super.exchangesPartitions(target, column) && family === 'date';
  }

  /** Clustered keys of a partitioned table include the partition column (aligned index). */
  /** A partitioned target first needs its partition function (RANGE RIGHT on the date) and scheme. */
  protected override createTargetTable(name: QualifiedName, target: TargetSpec, ifNotExists: boolean): SqlStatement[] {
    const statements = super.createTargetTable(name, target, ifNotExists);
    const column = target.dataSchema.partitionColumn;
    if (!column || !this.exchangesPartitions(target, column)) return statements;
    const fn = this.functionName(name.schema, target);
    const scheme = this.schemeName(name.schema, target);
    return [
      sqlText(`IF NOT EXISTS (SELECT 1 FROM sys.partition_functions WHERE name = ${this.dialect.literal(fn)})\nCREATE PARTITION FUNCTION ${this.q(fn)} (date) AS RANGE RIGHT FOR VALUES ()`),
      sqlText(`IF NOT EXISTS (SELECT 1 FROM sys.partition_schemes WHERE name = ${this.dialect.literal(scheme)})\nCREATE PARTITION SCHEME ${this.q(scheme)} AS PARTITION ${this.q(fn)} ALL TO (${FILEGROUP})`),
      ...statements,
    ];
  }

  /**
   * Partition exchange with SWITCH, per day: make sure the day has its own partition (boundaries at
   * the day and the next), switch the old partition out to an empty twin table and drop it, build
   * the new day in a twin whose CHECK constraint proves it fits the partition, and switch it in.
   * The partition scheme maps every partition to PRIMARY, where the twins are created too. Staged
   * rows outside the listed days are inserted as usual.
   */
  protected override exchangePartitions(operation: ReplacePartitions, context: CompileContext): SqlStatement[] {
    const target = context.names.target;
    const column = this.column(context, operation.column);
    const name = this.q(column.name);
    const fnName = this.functionName(target.schema, context.target);
    const fn = this.q(fnName);
    const scheme = this.q(this.schemeName(target.schema, context.target));
    const outgoing = siblingName(target, 'dpone_out');
    const incoming = siblingName(target, 'dpone_in');
    const twin = (table: QualifiedName, constraints: string[]) => sqlText(`${this.createTableSql(table, this.specs(targetSchema(context.target).columns), {
      role: 'target', keys: this.primaryKey(context.target), orderBy: [], constraints,
    }, false)} ON ${FILEGROUP}`);
    const statements: SqlStatement[] = [];
    for (const day of operation.partitions) {
      const next = nextDay(day);
      const bound = (value: string) => `CAST(${this.dialect.literal(value)} AS date)`;
      for (const boundary of [day, next]) {
        statements.push(sqlText([
          `IF NOT EXISTS (SELECT 1 FROM sys.partition_range_values AS v JOIN sys.partition_functions AS f ON f.function_id = v.function_id WHERE f.name = ${this.dialect.literal(fnName)} AND CAST(v.value AS date) = ${bound(boundary)})`,
          `BEGIN ALTER PARTITION SCHEME ${scheme} NEXT USED ${FILEGROUP}; ALTER PARTITION FUNCTION ${fn}() SPLIT RANGE (${bound(boundary)}); END`,
        ].join('\n')));
      }
      const partition = `$PARTITION.${fn}(${bound(day)})`;
      statements.push(
        this.dropTable(outgoing),
        twin(outgoing, []),
        sqlText(`ALTER TABLE ${this.dialect.qualified(target)} SWITCH PARTITION ${partition} TO ${this.dialect.qualified(outgoing)}`),
        sqlText(`DROP TABLE ${this.dialect.qualified(outgoing)}`),
        this.dropTable(incoming),
        twin(incoming, [`CHECK (${name} IS NOT NULL AND ${name} >= ${bound(day)} AND ${name} < ${bound(next)})`]),
        this.insertFromStaging(context, { op: 'insert', into: incoming, where: (binder) => `s.${name} = ${binder.bind(day, column)}` }),
        sqlText(`ALTER TABLE ${this.dialect.qualified(incoming)} SWITCH TO ${this.dialect.qualified(target)} PARTITION ${partition}`),
        sqlText(`DROP TABLE ${this.dialect.qualified(incoming)}`),
      );
    }
    statements.push(this.insertFromStaging(context, {
      op: 'insert',
      where: (binder) => operation.partitions.length === 0
        ? '1 = 1'
        : `s.${name} NOT IN (${operation.partitions.map((value) => binder.bind(value, column)).join(', ')})`,
    }));
    return statements;
  }

  /**
   * The wire table of `columns`: dropped if left by an earlier attempt and created anew, every
   * column nullable. Bulk load lands canonical values here and `insertFromWire` converts them: TDS
   * bulk load cannot convert on the way in (exact decimals, microsecond times, geometry,
   * hierarchyid and sql_variant have no client-side form that keeps the canonical value).
   */
  createWireTable(wire: QualifiedName, columns: readonly ColumnDef[]): SqlStatement[] {
    const specs: ColumnSpec[] = this.wireColumns(columns).map((column) => ({ name: column.name, type: column.type, nullable: true }));
    return [this.dropTable(wire), sqlText(this.createTableSql(wire, specs, { role: 'staging', keys: null, orderBy: [] }, false))];
  }

  dropWireTable(wire: QualifiedName): SqlStatement {
    return this.dropTable(wire);
  }

  /** Name and wire type of each column, in order (the bulk-load table definition). */
  wireColumns(columns: readonly ColumnDef[]): MssqlWireColumn[] {
    return columns.map((column) => ({ name: column.name, type: mssqlWireType(column) }));
  }

  /**
   * Partition functions and schemes are database-wide, so their names carry the schema; they follow
   * the target (not the physical table), so a swapped-in table keeps using them.
   */
  private functionName(schema: string | undefined, target: TargetSpec): string {
    return `pf_${schema ?? 'dbo'}_${target.name}`;
  }

  private schemeName(schema: string | undefined, target: TargetSpec): string {
    return `ps_${schema ?? 'dbo'}_${target.name}`;
  }
}

/** The calendar day after `YYYY-MM-DD`. */
function nextDay(day: string): string {
  const millis = Date.parse(`${day}T00:00:00Z`);
  if (Number.isNaN(millis)) throw new Error(`partition ${day} is not a YYYY-MM-DD day`);
  return new Date(millis + 86_400_000).toISOString().slice(0, 10);
}
