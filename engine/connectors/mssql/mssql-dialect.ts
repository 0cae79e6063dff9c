import type { FamilyType, MetaTypes, SqlCapabilities, TypeMapping } from '../../sql/sql-dialect.ts';
import { SqlDialectBase } from '../../sql/sql-dialect.ts';
import { MssqlCompiler } from './mssql-compiler.ts';

const EPOCH = "CAST('1970-01-01T00:00:00' AS datetime2(6))";
const MIDNIGHT = "CAST('00:00:00' AS time(6))";

/**
 * Canonical microseconds since the epoch as datetime2(6). DATEADD takes an int, so the value is
 * added as days, seconds of the day and microseconds; T-SQL division and modulo truncate toward
 * zero alike, so the three parts sum to the value for negative instants too.
 */
function fromEpochMicros(placeholder: string): string {
  const value = `CAST(${placeholder} AS bigint)`;
  return `DATEADD(MICROSECOND, CAST(${value} % 1000000 AS int), DATEADD(SECOND, CAST(${value} / 1000000 % 86400 AS int), DATEADD(DAY, CAST(${value} / 86400000000 AS int), ${EPOCH})))`;
}

/** ODBC canonical text (style 121) with the type's fraction digits, and the offset for datetimeoffset. */
const isoText = (column: string) => `CONVERT(varchar(34), ${column}, 121)`;
const asText = (length: string) => (column: string) => `CAST(${column} AS varchar(${length}))`;
/** nvarchar in, so that the UTF-8 column collation (not the database's code page) decides the conversion. */
const unicodeIn = (placeholder: string) => `CAST(${placeholder} AS nvarchar(max))`;
const UTF8 = 'COLLATE Latin1_General_100_BIN2_UTF8';

/** varchar with a UTF-8 collation: Unicode-safe on SQL Server 2019+, whatever the database default. */
const utf8 = (type: string, note?: string): FamilyType => ({ type, suffix: UTF8, bind: unicodeIn, ...(note ? { note } : {}) });
const timestamp = (type: string, note?: string): FamilyType => ({ type, bind: fromEpochMicros, read: isoText, ...(note ? { note } : {}) });
const offset: FamilyType = {
  type: 'datetimeoffset(6)',
  bind: (placeholder) => `TODATETIMEOFFSET(${fromEpochMicros(placeholder)}, 0)`,
  read: isoText,
};
const bytes = (type: string, note?: string): FamilyType => ({
  type,
  bind: (placeholder) => `CONVERT(${type}, ${placeholder}, 2)`,
  // Style 2: hex without 0x (upper case; normalizeValue lowers it).
  read: (column) => `CONVERT(varchar(max), ${column}, 2)`,
  ...(note ? { note } : {}),
});
const jsonText = (note?: string): FamilyType => ({ type: 'nvarchar(max)', ...(note ? { note } : {}) });
/** Read with style 2 (four fraction digits): the default style rounds money to two. */
const money = (type: string): FamilyType => ({ type, read: (column) => `CONVERT(varchar(30), ${column}, 2)` });

/**
 * SQL Server types of the 59 families. Text goes to UTF-8-collated varchar or to nvarchar, never to
 * a legacy code page; types that re-serialise their input (xml) hold the canonical text instead.
 */
const MSSQL_TYPES: TypeMapping = {
  boolean: { type: 'bit' },
  tinyint: { type: 'tinyint' },
  smallint: { type: 'smallint' },
  integer: { type: 'int' },
  bigint: { type: 'bigint', read: asText('20') },
  unsigned_integer: { type: 'bigint', note: 'no unsigned types; 0–4,294,967,295 fits bigint' },
  uint64: { type: 'decimal(20,0)', read: asText('21'), note: 'unsigned 64-bit values exceed bigint' },
  decimal: { type: 'decimal(38,10)', read: asText('50'), note: 'read as text: the driver returns decimal as a float, exact to 15 digits only' },
  numeric: { type: 'decimal(38,10)', read: asText('50') },
  money: money('money'),
  smallmoney: money('smallmoney'),
  real: { type: 'real' },
  float: { type: 'float' },
  date: { type: 'date', read: (column) => `CONVERT(char(10), ${column}, 23)` },
  time: {
    type: 'time(6)',
    bind: (placeholder) => `DATEADD(MICROSECOND, CAST(CAST(${placeholder} AS bigint) % 1000000 AS int), DATEADD(SECOND, CAST(CAST(${placeholder} AS bigint) / 1000000 AS int), ${MIDNIGHT}))`,
    read: (column) => `CAST(${column} AS varchar(16))`,
  },
  timestamp: timestamp('datetime2(6)'),
  timestamptz: offset,
  datetime: timestamp('datetime', 'accurate to 1/300 s (.000, .003, .007); other fractions are rounded'),
  smalldatetime: timestamp('smalldatetime', 'whole minutes, 1900–2079'),
  datetime2: timestamp('datetime2(6)'),
  datetimeoffset: { ...offset, note: 'stored at offset +00:00: the canonical form is the UTC instant' },
  interval: { type: 'bigint', note: 'microseconds: SQL Server has no interval type' },
  char: utf8('varchar(8000)', 'variable length: char(n) would pad, and the canonical form drops trailing blanks'),
  varchar: utf8('varchar(8000)'),
  text: utf8('varchar(max)', 'the legacy text type is deprecated'),
  nchar: { type: 'nvarchar(4000)', note: 'variable length: nchar(n) would pad' },
  nvarchar: { type: 'nvarchar(max)' },
  uuid: { type: 'uniqueidentifier', note: 'prints in upper case; normalizeValue lowers it' },
  enum: utf8('varchar(256)', 'no enum type; the labels are not known, so no CHECK constraint'),
  binary: bytes('varbinary(8000)', 'variable length: binary(n) would pad with zero bytes'),
  varbinary: bytes('varbinary(max)'),
  json: jsonText('the native json type exists only in SQL Server 2025 and Azure SQL; nvarchar keeps the canonical text'),
  jsonb: jsonText(),
  xml: jsonText('the xml type re-serialises documents (empty elements, whitespace, declaration), changing the text'),
  map: jsonText('JSON text: no map type'),
  tuple: jsonText('JSON text: no tuple type'),
  nested: jsonText('JSON text: no nested tables'),
  composite: jsonText('JSON text: no composite types'),
  int_array: jsonText('JSON text: no array types'),
  text_array: jsonText('JSON text: no array types'),
  int_range: utf8('varchar(100)', 'range text: no range types'),
  date_range: utf8('varchar(100)', 'range text: no range types'),
  point: utf8('varchar(100)', '`(x,y)` text: geometry::Point would print as WKT'),
  geometry: {
    type: 'geometry',
    bind: (placeholder) => `geometry::STGeomFromText(${placeholder}, 0)`,
    read: (column) => `${column}.STAsText()`,
  },
  geography: {
    type: 'geography',
    bind: (placeholder) => `geography::STGeomFromText(${placeholder}, 4326)`,
    read: (column) => `${column}.STAsText()`,
    note: 'SRID 4326, WKT in longitude-latitude order',
  },
  inet: utf8('varchar(50)'),
  cidr: utf8('varchar(50)'),
  macaddr: utf8('varchar(32)'),
  bit: { type: 'bit', note: 'reads back as a boolean; normalizeValue turns it into 1/0' },
  varbit: utf8('varchar(8000)', 'bit-string text: no varying bit type'),
  pg_lsn: utf8('varchar(32)'),
  oid: { type: 'bigint', note: 'unsigned 32-bit values exceed int' },
  rowversion: bytes('binary(8)', 'a rowversion column cannot be inserted into; binary(8) holds the copied value'),
  sql_variant: {
    type: 'sql_variant',
    bind: (placeholder) => `CAST(${placeholder} AS nvarchar(4000))`,
    read: (column) => `CAST(${column} AS nvarchar(4000))`,
    note: 'stored with base type nvarchar: the canonical form is text',
  },
  hierarchyid: {
    type: 'hierarchyid',
    bind: (placeholder) => `hierarchyid::Parse(${placeholder})`,
    read: (column) => `${column}.ToString()`,
  },
  low_cardinality: utf8('varchar(8000)'),
  nullable: { type: 'bigint' },
  ipv4: utf8('varchar(15)'),
  ipv6: utf8('varchar(45)'),
};

const MSSQL_META: MetaTypes = {
  // pipeline stays under 900 bytes: it is the clustered primary key of the state table.
  op: 'char(1)', rowHash: 'char(16)', pipeline: 'nvarchar(400)', state: 'nvarchar(max)', loadId: 'varchar(64)', committedAt: 'datetime2(6)',
};

/**
 * SQL Server: transactional DDL (renames via sp_rename), MERGE, no ON CONFLICT. Partition exchange
 * (`ALTER TABLE … SWITCH`) is off by default; turn it on for targets created on the dialect's
 * partition scheme. At most 2,100 parameters per request; the limit here leaves headroom. Native
 * fast path: TDS bulk load.
 */
export class MssqlDialect extends SqlDialectBase {
  readonly name = 'mssql';
  readonly types = MSSQL_TYPES;
  readonly metaTypes = MSSQL_META;
  readonly compiler: MssqlCompiler;

  constructor(capabilities: Partial<SqlCapabilities> = {}) {
    super({
      transactions: true, transactionalDdl: true, merge: true, upsert: false, partitionExchange: false, partitionColumnInKey: true,
      lightweightDelete: true, maxParameters: 2000, maxIdentifierLength: 128, ...capabilities,
    });
    this.compiler = new MssqlCompiler(this);
  }

  protected quoteIdentifier(identifier: string): string {
    return `[${identifier.replaceAll(']', ']]')}]`;
  }

  /** Unicode literal (N'…'), so names and values outside the code page survive. */
  override literal(value: string): string {
    return `N${super.literal(value)}`;
  }
}
