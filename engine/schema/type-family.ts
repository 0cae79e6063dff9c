/**
 * Logical type families of the wide payload. Every family has one canonical JS representation
 * (see canonical.ts); each SQL dialect maps a family to a physical column type.
 * The list follows the families the predecessor certified (59), grouped as in the matrix runbook.
 */
export const TYPE_FAMILIES = [
  // numeric and monetary
  'boolean', 'tinyint', 'smallint', 'integer', 'bigint', 'unsigned_integer', 'uint64',
  'decimal', 'numeric', 'money', 'smallmoney', 'real', 'float',
  // temporal
  'date', 'time', 'timestamp', 'timestamptz', 'datetime', 'smalldatetime', 'datetime2',
  'datetimeoffset', 'interval',
  // text
  'char', 'varchar', 'text', 'nchar', 'nvarchar', 'uuid', 'enum',
  // binary
  'binary', 'varbinary',
  // semi-structured
  'json', 'jsonb', 'xml', 'map', 'tuple', 'nested', 'composite',
  // collection and range
  'int_array', 'text_array', 'int_range', 'date_range',
  // spatial, network and system
  'point', 'geometry', 'geography', 'inet', 'cidr', 'macaddr', 'bit', 'varbit', 'pg_lsn', 'oid',
  'rowversion', 'sql_variant', 'hierarchyid',
  // ClickHouse-like
  'low_cardinality', 'nullable', 'ipv4', 'ipv6',
] as const;

export type TypeFamily = (typeof TYPE_FAMILIES)[number];

/** How a family's canonical value is held in memory: a JS number, a boolean, or an exact string. */
export type CanonicalKind = 'number' | 'boolean' | 'string';

const NUMBER_FAMILIES: ReadonlySet<TypeFamily> = new Set<TypeFamily>([
  'tinyint', 'smallint', 'integer', 'unsigned_integer', 'real', 'float', 'time', 'timestamp',
  'timestamptz', 'datetime', 'smalldatetime', 'datetime2', 'datetimeoffset', 'interval', 'oid',
  'nullable',
]);

/** The in-memory kind of a family's canonical value. */
export function canonicalKind(family: TypeFamily): CanonicalKind {
  if (family === 'boolean') return 'boolean';
  return NUMBER_FAMILIES.has(family) ? 'number' : 'string';
}

export function isTypeFamily(value: string): value is TypeFamily {
  return (TYPE_FAMILIES as readonly string[]).includes(value);
}
