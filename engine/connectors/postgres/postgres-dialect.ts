import type { FamilyType, MetaTypes, SqlCapabilities, TypeMapping } from '../../sql/sql-dialect.ts';
import { SqlDialectBase } from '../../sql/sql-dialect.ts';
import { PostgresCompiler } from './postgres-compiler.ts';

/**
 * Canonical microseconds (since the epoch or midnight) added to a base value, zone-free. Seconds and
 * microseconds are added apart because interval arithmetic multiplies in float8, which is exact for
 * whole seconds but not for 2^53+ microseconds (SQL Server's 9999-12-31 end-of-time marker).
 */
const micros = (base: string) => (placeholder: string) =>
  `(${base} + (${placeholder}::bigint / 1000000) * INTERVAL '1 second' + (${placeholder}::bigint % 1000000) * INTERVAL '1 microsecond')`;
/** Back to microseconds; EXTRACT returns numeric since PostgreSQL 14, so the product is exact. */
const epochMicros = (column: string) => `(EXTRACT(EPOCH FROM ${column}) * 1000000)::bigint`;
/** ISO text with all six fraction digits, independent of DateStyle and of the session time zone. */
const isoText = (column: string) => `to_char(${column}, 'YYYY-MM-DD HH24:MI:SS.US')`;
const isoUtcText = (column: string) => isoText(`(${column} AT TIME ZONE 'UTC')`);
const asText = (column: string) => `${column}::text`;
const hexIn = (placeholder: string) => `decode(${placeholder}, 'hex')`;
const hexOut = (column: string) => `encode(${column}, 'hex')`;

/** Timestamps bind from microseconds and read back as ISO text (the pg driver would build ms-precision Dates). */
const timestamp = (type: string, note?: string): FamilyType => ({
  type, bind: micros("TIMESTAMP 'epoch'"), read: isoText, ...(note ? { note } : {}),
});
const timestamptz = (note?: string): FamilyType => ({
  type: 'timestamptz', bind: micros("TIMESTAMPTZ 'epoch'"), read: isoUtcText, ...(note ? { note } : {}),
});
const bytes: FamilyType = { type: 'bytea', bind: hexIn, read: hexOut };
const jsonText = (note?: string): FamilyType => ({ type: 'jsonb', read: asText, ...(note ? { note } : {}) });

/**
 * PostgreSQL types of the 59 families. Where the pg driver would hand back something other than the
 * canonical text (Date objects, parsed points, Buffers, parsed arrays), `read` casts on the server.
 */
const POSTGRES_TYPES: TypeMapping = {
  boolean: { type: 'boolean' },
  tinyint: { type: 'smallint', note: 'no 1-byte integer; the 0–255 range fits smallint' },
  smallint: { type: 'smallint' },
  integer: { type: 'integer' },
  bigint: { type: 'bigint', read: asText },
  unsigned_integer: { type: 'bigint', note: 'no unsigned types; 0–4,294,967,295 fits bigint' },
  uint64: { type: 'numeric(20,0)', read: asText, note: 'unsigned 64-bit values exceed bigint' },
  decimal: { type: 'numeric(38,10)', read: asText },
  numeric: { type: 'numeric(38,10)', read: asText },
  money: { type: 'numeric(19,4)', read: asText, note: 'native money prints with lc_monetary (symbol, separators, often 2 digits); numeric(19,4) keeps SQL Server money exactly' },
  smallmoney: { type: 'numeric(10,4)', read: asText },
  real: { type: 'real', note: 'PostgreSQL 12+ prints the shortest text that round-trips the float4' },
  float: { type: 'double precision' },
  date: { type: 'date', read: (column) => `to_char(${column}, 'YYYY-MM-DD')` },
  time: { type: 'time', bind: micros("TIME '00:00'"), read: asText },
  timestamp: timestamp('timestamp'),
  timestamptz: timestamptz(),
  datetime: timestamp('timestamp(3)', 'SQL Server datetime is read as milliseconds; finer values are rounded'),
  smalldatetime: timestamp('timestamp(0)', 'SQL Server smalldatetime holds whole minutes'),
  datetime2: timestamp('timestamp'),
  datetimeoffset: timestamptz('the instant is kept, not the original offset (the canonical form is UTC)'),
  interval: {
    type: 'interval', bind: micros("INTERVAL '0'"), read: epochMicros,
    note: 'bound and read as microseconds: interval text (`11 days 02:00:00`) is not the canonical form',
  },
  char: { type: 'bpchar', note: 'unbounded blank-padded text: no width is known, and trailing blanks are insignificant as in the canonical form' },
  varchar: { type: 'varchar' },
  text: { type: 'text' },
  nchar: { type: 'bpchar', note: 'databases are UTF-8; there are no national character types' },
  nvarchar: { type: 'varchar' },
  uuid: { type: 'uuid' },
  enum: { type: 'text', note: 'an enum type needs its labels, which a type family does not carry' },
  binary: bytes,
  varbinary: bytes,
  json: { type: 'json', read: asText, note: 'json keeps the text as written' },
  jsonb: jsonText('jsonb re-orders keys and spacing; normalizeValue sorts keys again, so values round-trip'),
  xml: { type: 'xml', read: asText, note: 'xml stores the document text unchanged' },
  map: jsonText('core PostgreSQL has no map type (hstore is an extension with text values only)'),
  tuple: jsonText('anonymous records cannot be stored; the canonical JSON array is kept'),
  nested: jsonText(),
  composite: jsonText('a composite type needs CREATE TYPE with its fields; the canonical JSON object is kept'),
  int_array: {
    type: 'bigint[]',
    // The canonical JSON array of integers has only digits, signs and commas: brackets become braces.
    bind: (placeholder) => `translate(${placeholder}, '[]', '{}')::bigint[]`,
    read: (column) => `translate(${column}::text, '{}', '[]')`,
  },
  text_array: {
    type: 'text[]',
    // JSON string escapes differ from array-literal escapes, so elements are unpacked by jsonb.
    bind: (placeholder) => `CASE WHEN ${placeholder}::jsonb IS NULL THEN NULL ELSE ARRAY(SELECT e FROM jsonb_array_elements_text(${placeholder}::jsonb) WITH ORDINALITY AS a(e, n) ORDER BY n) END`,
    read: (column) => `to_jsonb(${column})::text`,
  },
  int_range: { type: 'int4range' },
  date_range: { type: 'daterange' },
  point: { type: 'point', read: asText },
  geometry: { type: 'text', note: 'PostGIS geometry needs the extension; WKT text keeps the canonical form' },
  geography: { type: 'text', note: 'PostGIS geography needs the extension; WKT text keeps the canonical form' },
  inet: { type: 'inet' },
  cidr: { type: 'cidr' },
  macaddr: { type: 'macaddr' },
  bit: { type: 'bit(1)' },
  varbit: { type: 'bit varying' },
  pg_lsn: { type: 'pg_lsn' },
  oid: { type: 'oid' },
  rowversion: { ...bytes, note: 'the 8 bytes of a SQL Server rowversion' },
  sql_variant: { type: 'text', note: 'no variant type; the canonical text is kept' },
  hierarchyid: { type: 'text', note: 'ltree is an extension and writes paths with dots, not `/1/2/`' },
  low_cardinality: { type: 'text' },
  nullable: { type: 'bigint' },
  ipv4: { type: 'inet' },
  ipv6: { type: 'inet', note: 'inet prints IPv6 in compressed lowercase form, as the canonical value' },
};

const POSTGRES_META: MetaTypes = {
  op: 'char(1)', rowHash: 'char(16)', pipeline: 'text', state: 'jsonb', loadId: 'text', committedAt: 'timestamptz',
};

/**
 * PostgreSQL: transactional DDL, `INSERT … ON CONFLICT` and MERGE (PostgreSQL 15+). Partition
 * exchange is off by default; turn it on (`{ partitionExchange: true }`) for targets that are
 * declaratively partitioned by their partition column, which partition_replace then detaches and
 * re-attaches whole. Native fast path: `COPY … FROM STDIN`.
 */
export class PostgresDialect extends SqlDialectBase {
  readonly name = 'postgres';
  readonly types = POSTGRES_TYPES;
  readonly metaTypes = POSTGRES_META;
  readonly compiler: PostgresCompiler;

  constructor(capabilities: Partial<SqlCapabilities> = {}) {
    super({
      transactions: true, transactionalDdl: true, merge: true, upsert: true, partitionExchange: false, partitionColumnInKey: true,
      lightweightDelete: true, maxParameters: 65_535, maxIdentifierLength: 63, ...capabilities,
    });
    this.compiler = new PostgresCompiler(this);
  }

  protected quoteIdentifier(identifier: string): string {
    return `"${identifier.replaceAll('"', '""')}"`;
  }
}
