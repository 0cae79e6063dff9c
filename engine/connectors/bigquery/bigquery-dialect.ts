import type { FamilyType, MetaTypes, SqlCapabilities, TypeMapping } from '../../sql/sql-dialect.ts';
import { SqlDialectBase } from '../../sql/sql-dialect.ts';
import { BigQueryCompiler } from './bigquery-compiler.ts';

const asText = (column: string) => `CAST(${column} AS STRING)`;
const micros = (placeholder: string) => `TIMESTAMP_MICROS(CAST(${placeholder} AS INT64))`;

/** Timestamps read back as ISO text with six fraction digits (in UTC for TIMESTAMP). */
const timestamp: FamilyType = { type: 'TIMESTAMP', bind: micros, read: (column) => `FORMAT_TIMESTAMP('%Y-%m-%d %H:%M:%E6S', ${column}, 'UTC')` };
/** A civil date-time (no zone): the canonical instant read in UTC. */
const datetime = (note?: string): FamilyType => ({
  type: 'DATETIME',
  bind: (placeholder) => `DATETIME(${micros(placeholder)})`,
  read: (column) => `FORMAT_DATETIME('%Y-%m-%d %H:%M:%E6S', ${column})`,
  ...(note ? { note } : {}),
});
const json = (note?: string): FamilyType => ({
  type: 'JSON',
  bind: (placeholder) => `PARSE_JSON(${placeholder})`,
  read: (column) => `TO_JSON_STRING(${column})`,
  ...(note ? { note } : {}),
});
const bytes: FamilyType = { type: 'BYTES', bind: (placeholder) => `FROM_HEX(${placeholder})`, read: (column) => `TO_HEX(${column})` };
const ARRAYS = 'JSON: a BigQuery ARRAY cannot be NULL (it is stored as an empty array)';

/**
 * BigQuery types of the 59 families. Every integer is INT64 and read back as text (a JS number
 * would round past 2^53); decimals keep the scale the other dialects give them (BIGNUMERIC where
 * NUMERIC's 9 fraction digits are too few).
 */
const BIGQUERY_TYPES: TypeMapping = {
  boolean: { type: 'BOOL' },
  tinyint: { type: 'INT64' },
  smallint: { type: 'INT64' },
  integer: { type: 'INT64' },
  bigint: { type: 'INT64', read: asText, note: 'read as text: the client returns INT64 as a JavaScript number' },
  unsigned_integer: { type: 'INT64' },
  uint64: { type: 'NUMERIC(20, 0)', read: asText, note: 'unsigned 64-bit values exceed INT64' },
  decimal: { type: 'BIGNUMERIC(38, 10)', read: asText, note: 'NUMERIC has only 9 fraction digits' },
  numeric: { type: 'BIGNUMERIC(38, 10)', read: asText, note: 'NUMERIC has only 9 fraction digits' },
  money: { type: 'NUMERIC(19, 4)', read: asText },
  smallmoney: { type: 'NUMERIC(10, 4)', read: asText },
  real: { type: 'FLOAT64', note: 'no 32-bit float; every float4 value is exact in FLOAT64' },
  float: { type: 'FLOAT64' },
  date: { type: 'DATE', read: asText },
  time: {
    type: 'TIME',
    bind: (placeholder) => `TIME(${micros(placeholder)})`,
    read: (column) => `FORMAT_TIME('%H:%M:%E6S', ${column})`,
  },
  timestamp: datetime(),
  timestamptz: timestamp,
  datetime: datetime(),
  smalldatetime: datetime(),
  datetime2: datetime(),
  datetimeoffset: { ...timestamp, note: 'the instant is kept, not the original offset' },
  interval: { type: 'INT64', note: 'microseconds: INTERVAL keeps months, days and time apart and prints them so' },
  char: { type: 'STRING' },
  varchar: { type: 'STRING' },
  text: { type: 'STRING' },
  nchar: { type: 'STRING' },
  nvarchar: { type: 'STRING' },
  uuid: { type: 'STRING', note: 'no UUID type' },
  enum: { type: 'STRING' },
  binary: bytes,
  varbinary: bytes,
  json: json('JSON stores numbers as INT64/FLOAT64, like the JavaScript values the canonical JSON came from; PARSE_JSON rejects what it cannot keep exactly'),
  jsonb: json(),
  xml: { type: 'STRING' },
  map: json('JSON: a STRUCT needs fixed field names and types'),
  tuple: json('JSON: a STRUCT needs the element types'),
  nested: json(ARRAYS),
  composite: json('JSON: a STRUCT needs the field types'),
  int_array: json(ARRAYS),
  text_array: json(ARRAYS),
  int_range: { type: 'STRING', note: 'RANGE exists only for DATE, DATETIME and TIMESTAMP' },
  date_range: { type: 'STRING', note: 'RANGE<DATE> prints `[a, b)` with a space and UNBOUNDED ends, not the canonical text' },
  point: { type: 'STRING', note: '`(x,y)` text: GEOGRAPHY is a point on the sphere' },
  geometry: { type: 'STRING', note: 'WKT text: GEOGRAPHY is spherical and rejects planar coordinates beyond ±180/±90' },
  geography: {
    type: 'GEOGRAPHY',
    bind: (placeholder) => `ST_GEOGFROMTEXT(${placeholder})`,
    read: (column) => `ST_ASTEXT(${column})`,
    note: 'points are stored on the sphere; coordinates with many digits may come back rounded in the last ones',
  },
  inet: { type: 'STRING' },
  cidr: { type: 'STRING' },
  macaddr: { type: 'STRING' },
  bit: {
    type: 'BOOL',
    bind: (placeholder) => `(CAST(${placeholder} AS STRING) = '1')`,
    note: 'one bit as BOOL; normalizeValue turns true/false into 1/0',
  },
  varbit: { type: 'STRING' },
  pg_lsn: { type: 'STRING' },
  oid: { type: 'INT64' },
  rowversion: bytes,
  sql_variant: { type: 'STRING' },
  hierarchyid: { type: 'STRING' },
  low_cardinality: { type: 'STRING' },
  nullable: { type: 'INT64' },
  ipv4: { type: 'STRING' },
  ipv6: { type: 'STRING' },
};

const BIGQUERY_META: MetaTypes = {
  op: 'STRING', rowHash: 'STRING', pipeline: 'STRING', state: 'STRING', loadId: 'STRING', committedAt: 'TIMESTAMP',
};

/**
 * BigQuery: MERGE and multi-statement transactions (in a session), but DDL cannot run inside one.
 * No partition exchange: partitions are replaced with partition-scoped DELETE + INSERT. Swap is
 * `CREATE OR REPLACE TABLE … AS SELECT`, atomic on its own and run outside the transaction.
 * Primary keys are informational (NOT ENFORCED). Native fast path: load jobs.
 */
export class BigQueryDialect extends SqlDialectBase {
  readonly name = 'bigquery';
  readonly types = BIGQUERY_TYPES;
  readonly metaTypes = BIGQUERY_META;
  readonly compiler: BigQueryCompiler;

  constructor(capabilities: Partial<SqlCapabilities> = {}) {
    super({
      transactions: true, transactionalDdl: false, merge: true, upsert: false, partitionExchange: false,
      lightweightDelete: true, maxParameters: 10_000, maxIdentifierLength: 300, ...capabilities,
    });
    this.compiler = new BigQueryCompiler(this);
  }

  /** Backquotes; a backquote or backslash inside is escaped with a backslash. */
  protected quoteIdentifier(identifier: string): string {
    return `\`${identifier.replace(/[\\`]/g, (char) => `\\${char}`)}\``;
  }

  /** BigQuery string literals escape with backslashes. */
  override literal(value: string): string {
    return `'${value.replace(/[\\']/g, (char) => `\\${char}`)}'`;
  }
}
