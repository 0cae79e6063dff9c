import type { TypeFamily } from '../schema/index.ts';
import type { QualifiedName } from './names.ts';
import type { SqlCompiler } from './sql-compiler.ts';

export const SQL_DIALECT_NAMES = ['postgres', 'mssql', 'clickhouse', 'bigquery'] as const;

export type SqlDialectName = (typeof SQL_DIALECT_NAMES)[number];

/**
 * What a SQL engine can do. Compilers and sinks branch on these flags, never on a dialect name, so a
 * server version or deployment that lacks a feature is one flag away (e.g. a Postgres target that is
 * declaratively partitioned turns `partitionExchange` on).
 */
export interface SqlCapabilities {
  /** Multi-statement transactions: finalize, reconcile and the state commit can be one unit. */
  readonly transactions: boolean;
  /** DDL (CREATE, ALTER, RENAME, DROP) inside a transaction rolls back with it. */
  readonly transactionalDdl: boolean;
  /** A `MERGE` statement with a delete branch. */
  readonly merge: boolean;
  /** `INSERT … ON CONFLICT (key) DO UPDATE`. */
  readonly upsert: boolean;
  /** Partitions are replaced by exchanging whole partitions (attach/detach, SWITCH, REPLACE PARTITION). */
  readonly partitionExchange: boolean;
  /**
   * A partition-exchanging table must carry its partition column in the primary key (Postgres
   * partitioned tables, SQL Server aligned unique indexes); ClickHouse's sorting key need not.
   */
  readonly partitionColumnInKey: boolean;
  /**
   * `DELETE FROM … WHERE` removes rows as a statement (standard DML, or ClickHouse's lightweight
   * delete). When false, deletes compile to `ALTER TABLE … DELETE` mutations.
   */
  readonly lightweightDelete: boolean;
  /** Bind parameters one statement may carry; multi-row inserts are split to stay below it. */
  readonly maxParameters: number;
  /** Longest identifier, in UTF-8 bytes; longer names are rejected rather than silently truncated. */
  readonly maxIdentifierLength: number;
}

/** Defaults a dialect starts from: a transactional engine without MERGE, upsert or partition exchange. */
export const DEFAULT_SQL_CAPABILITIES: SqlCapabilities = Object.freeze({
  transactions: true,
  transactionalDdl: false,
  merge: false,
  upsert: false,
  partitionExchange: false,
  partitionColumnInKey: false,
  lightweightDelete: true,
  maxParameters: 1000,
  maxIdentifierLength: 128,
});

/** How one type family is stored and moved by a dialect. */
export interface FamilyType {
  /** Physical column type, without nullability. */
  readonly type: string;
  /** DDL written after the type (an MSSQL collation); not part of casts. */
  readonly suffix?: string;
  /** SQL that turns a placeholder holding the canonical value into `type`; default: a cast to `type`. */
  readonly bind?: (placeholder: string) => string;
  /** SQL that reads the column back as text or a number that `normalizeValue` maps to the canonical form. */
  readonly read?: (column: string) => string;
  /** ClickHouse: the type a typed placeholder declares (the canonical form on the wire), when not `type`. */
  readonly paramType?: string;
  /** Why the type is what it is: a lossy or unsafe native type avoided, or a precondition of the value. */
  readonly note?: string;
}

export type TypeMapping = Readonly<Record<TypeFamily, FamilyType>>;

/**
 * Physical types of the engine's own columns: `__dpone__op` (one letter), `__dpone__row_hash`
 * (16 hex digits) and the state table's columns.
 */
export interface MetaTypes {
  readonly op: string;
  readonly rowHash: string;
  readonly pipeline: string;
  /** The state as sorted-key JSON text. */
  readonly state: string;
  readonly loadId: string;
  readonly committedAt: string;
}

/**
 * A SQL dialect: a factory of the compiler plus what it owns — capabilities, identifier quoting and
 * the physical type of every type family.
 */
export interface SqlDialect {
  readonly name: SqlDialectName;
  readonly capabilities: SqlCapabilities;
  readonly types: TypeMapping;
  readonly metaTypes: MetaTypes;
  readonly compiler: SqlCompiler;
  /** Quotes one identifier, escaping the quote character; throws on empty, NUL or over-long names. */
  quote(identifier: string): string;
  /** `schema.name`, each part quoted. */
  qualified(name: QualifiedName): string;
  /** Physical column type of a family. */
  columnType(family: TypeFamily): string;
  /** The mapping of a family: type, bind/read conversions and notes. */
  familyType(family: TypeFamily): FamilyType;
  /** A string literal, for the few places that cannot take a parameter (DDL partition bounds). */
  literal(value: string): string;
}

/**
 * Defaults shared by the four dialects. Subclasses give their name, type table, quoting and
 * compiler, and override capability flags through the constructor.
 */
export abstract class SqlDialectBase implements SqlDialect {
  abstract readonly name: SqlDialectName;
  abstract readonly types: TypeMapping;
  abstract readonly metaTypes: MetaTypes;
  abstract readonly compiler: SqlCompiler;
  readonly capabilities: SqlCapabilities;

  protected constructor(capabilities: Partial<SqlCapabilities>) {
    this.capabilities = Object.freeze({ ...DEFAULT_SQL_CAPABILITIES, ...capabilities });
  }

  quote(identifier: string): string {
    if (identifier.length === 0) throw new Error(`${this.name}: empty identifier`);
    if (identifier.includes('\u0000')) throw new Error(`${this.name}: identifier ${JSON.stringify(identifier)} contains NUL`);
    const bytes = Buffer.byteLength(identifier, 'utf8');
    if (bytes > this.capabilities.maxIdentifierLength) {
      // Postgres would silently truncate, and two long names could then collide.
      throw new Error(`${this.name}: identifier ${identifier} is ${bytes} bytes, longer than ${this.capabilities.maxIdentifierLength}`);
    }
    return this.quoteIdentifier(identifier);
  }

  qualified(name: QualifiedName): string {
    return name.schema === undefined ? this.quote(name.name) : `${this.quote(name.schema)}.${this.quote(name.name)}`;
  }

  columnType(family: TypeFamily): string {
    return this.familyType(family).type;
  }

  familyType(family: TypeFamily): FamilyType {
    const mapping: FamilyType | undefined = this.types[family];
    if (!mapping) throw new Error(`${this.name}: no physical type for type family ${String(family)}`);
    return mapping;
  }

  /** Standard SQL string literal: single quotes doubled. */
  literal(value: string): string {
    return `'${value.replaceAll("'", "''")}'`;
  }

  /** Wraps an already validated identifier in the dialect's quotes. */
  protected abstract quoteIdentifier(identifier: string): string;
}
