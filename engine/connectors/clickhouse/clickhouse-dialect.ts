import type { FamilyType, MetaTypes, SqlCapabilities, TypeMapping } from '../../sql/sql-dialect.ts';
import { SqlDialectBase } from '../../sql/sql-dialect.ts';
import { ClickHouseCompiler } from './clickhouse-compiler.ts';

const asText = (column: string) => `toString(${column})`;

/** Timestamps travel as Int64 microseconds and are converted exactly on the server. */
const timestamp = (type: string, note?: string): FamilyType => ({
  type,
  paramType: 'Int64',
  bind: (placeholder) => `fromUnixTimestamp64Micro(${placeholder}, 'UTC')`,
  // Text in the column's zone (UTC): 64-bit integers reach JavaScript quoted, and a quoted number is no timestamp.
  read: asText,
  ...(note ? { note } : {}),
});
const bytes = (type: string, note?: string): FamilyType => ({
  type,
  paramType: 'String',
  bind: (placeholder) => `unhex(${placeholder})`,
  read: (column) => `lower(hex(${column}))`,
  ...(note ? { note } : {}),
});
const NOT_NULLABLE = 'Map, Tuple and Array types cannot be wrapped in Nullable (a NULL would become an empty value)';
const jsonText = (note: string): FamilyType => ({ type: 'String', note });

/**
 * ClickHouse types of the 59 families. Nullable columns are wrapped in `Nullable(…)` by the
 * compiler (inside `LowCardinality`). JSON-like and collection families stay canonical JSON text:
 * Map/Tuple/Array cannot be Nullable, and the JSON type re-types numbers, so text is what
 * round-trips.
 */
const CLICKHOUSE_TYPES: TypeMapping = {
  boolean: { type: 'Bool' },
  tinyint: { type: 'UInt8', note: 'tinyint is SQL Server\'s unsigned 0–255' },
  smallint: { type: 'Int16' },
  integer: { type: 'Int32' },
  bigint: { type: 'Int64', read: asText, note: '64-bit integers are read as text, exact beyond 2^53' },
  unsigned_integer: { type: 'UInt32' },
  uint64: { type: 'UInt64', read: asText },
  decimal: { type: 'Decimal(38, 10)', read: asText, note: 'read as text: JSON output prints decimals unquoted, and JavaScript would round them' },
  numeric: { type: 'Decimal(38, 10)', read: asText },
  money: { type: 'Decimal(19, 4)', read: asText },
  smallmoney: { type: 'Decimal(10, 4)', read: asText },
  real: { type: 'Float32' },
  float: { type: 'Float64' },
  date: { type: 'Date32', read: asText, note: 'Date32 (1900–2299): Date stops at 1970–2149' },
  time: {
    type: 'Int64',
    // Read back as HH:MM:SS.ffffff: the canonical number arrives quoted, and quoted text must be a time of day.
    read: (column) => `concat(formatDateTime(fromUnixTimestamp64Micro(${column}, 'UTC'), '%H:%i:%S', 'UTC'), '.', leftPad(toString(${column} % 1000000), 6, '0'))`,
    note: 'microseconds since midnight: Time64 needs a recent server and an experimental setting',
  },
  timestamp: timestamp("DateTime64(6, 'UTC')", 'DateTime64 covers 1900–2299; a 9999-12-31 end-of-time marker does not fit'),
  timestamptz: timestamp("DateTime64(6, 'UTC')"),
  datetime: timestamp("DateTime64(3, 'UTC')", 'milliseconds, like SQL Server datetime as a driver reads it'),
  smalldatetime: timestamp("DateTime64(0, 'UTC')", 'whole seconds hold smalldatetime minutes; DateTime would stop at 1970'),
  datetime2: timestamp("DateTime64(6, 'UTC')"),
  datetimeoffset: timestamp("DateTime64(6, 'UTC')", 'the instant is kept, not the original offset'),
  interval: { type: 'Int64', read: asText, note: 'microseconds: Interval types cannot be stored in tables' },
  char: { type: 'String', note: 'FixedString(n) pads with NUL bytes, which would change the text' },
  varchar: { type: 'String' },
  text: { type: 'String' },
  nchar: { type: 'String', note: 'FixedString(n) pads with NUL bytes, which would change the text' },
  nvarchar: { type: 'String' },
  uuid: { type: 'UUID', read: asText },
  enum: { type: 'LowCardinality(String)', paramType: 'String', note: 'Enum8 needs the labels, which a type family does not carry' },
  binary: bytes('String', 'String holds arbitrary bytes; hex in and out'),
  varbinary: bytes('String'),
  json: jsonText('the JSON type re-types and re-formats numbers; the canonical text is kept'),
  jsonb: jsonText('the JSON type re-types and re-formats numbers; the canonical text is kept'),
  xml: { type: 'String' },
  map: jsonText(`JSON text: Map(K, V) needs one value type, and ${NOT_NULLABLE}`),
  tuple: jsonText(`JSON text: ${NOT_NULLABLE}`),
  nested: jsonText(`JSON text: Nested is an array of tuples, and ${NOT_NULLABLE}`),
  composite: jsonText(`JSON text: a named Tuple needs the field types, and ${NOT_NULLABLE}`),
  int_array: jsonText(`JSON text: ${NOT_NULLABLE}`),
  text_array: jsonText(`JSON text: ${NOT_NULLABLE}`),
  int_range: { type: 'String', note: 'range text: no range types' },
  date_range: { type: 'String', note: 'range text: no range types' },
  point: { type: 'String', note: 'Point is a Tuple and cannot be Nullable' },
  geometry: { type: 'String', note: 'WKT text: the geo types are tuples and arrays and cannot be Nullable' },
  geography: { type: 'String', note: 'WKT text: the geo types are tuples and arrays and cannot be Nullable' },
  inet: { type: 'String', note: 'an inet may carry a netmask and either address family' },
  cidr: { type: 'String' },
  macaddr: { type: 'String' },
  bit: { type: 'UInt8', note: 'reads back as 0/1; normalizeValue turns it into text' },
  varbit: { type: 'String' },
  pg_lsn: { type: 'String' },
  oid: { type: 'UInt32' },
  rowversion: bytes('FixedString(8)'),
  sql_variant: { type: 'String', note: 'Variant is experimental; the canonical text is kept' },
  hierarchyid: { type: 'String' },
  low_cardinality: { type: 'LowCardinality(String)', paramType: 'String' },
  nullable: { type: 'Int64', read: asText },
  ipv4: { type: 'IPv4', read: asText },
  ipv6: { type: 'IPv6', read: asText },
};

const CLICKHOUSE_META: MetaTypes = {
  op: 'FixedString(1)', rowHash: 'FixedString(16)', pipeline: 'String', state: 'String', loadId: 'String', committedAt: "DateTime64(6, 'UTC')",
};

/**
 * ClickHouse: no transactions and no upsert. Merges are lightweight deletes plus inserts,
 * partitions are replaced with `REPLACE PARTITION`, swaps with `EXCHANGE TABLES` (Atomic
 * databases), and SCD2 expiry is a synchronous `ALTER TABLE … UPDATE` mutation. Turn
 * `lightweightDelete` off for servers before 23.3: deletes then become mutations too. Query
 * parameters travel in the HTTP request, so inserts are split well below the URI size limit.
 * Native fast path: `INSERT … FORMAT`.
 */
export class ClickHouseDialect extends SqlDialectBase {
  readonly name = 'clickhouse';
  readonly types = CLICKHOUSE_TYPES;
  readonly metaTypes = CLICKHOUSE_META;
  readonly compiler: ClickHouseCompiler;

  constructor(capabilities: Partial<SqlCapabilities> = {}) {
    super({
      transactions: false, transactionalDdl: false, merge: false, upsert: false, partitionExchange: true,
      // Column names become file names in wide parts: keep them well below the 255-byte limit.
      lightweightDelete: true, maxParameters: 10_000, maxIdentifierLength: 200, ...capabilities,
    });
    this.compiler = new ClickHouseCompiler(this);
  }

  /** Backquotes; a backquote or backslash inside is escaped with a backslash. */
  protected quoteIdentifier(identifier: string): string {
    return `\`${identifier.replace(/[\\`]/g, (char) => `\\${char}`)}\``;
  }

  /** ClickHouse string literals escape with backslashes. */
  override literal(value: string): string {
    return `'${value.replace(/[\\']/g, (char) => `\\${char}`)}'`;
  }
}
