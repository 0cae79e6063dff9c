import type { TypeFamily } from './type-family.ts';

/**
 * A canonical cell value: exact strings for decimals/text/binary, numbers for integers and times
 * (bigint only for timestamps beyond ±2^53 µs, e.g. SQL Server's 9999-12-31 end-of-time marker).
 */
export type CanonicalValue = string | number | bigint | boolean | null;

/** A row is a frozen array of canonical values in the column order of its table schema. */
export type Row = readonly CanonicalValue[];

export interface ColumnDef {
  readonly name: string;
  readonly family: TypeFamily;
  readonly nullable: boolean;
}

export interface TableSchema {
  readonly columns: readonly ColumnDef[];
  /** Name of the unique business key column. */
  readonly key: string;
  /** Column whose value names the row's partition, when the table is partitioned. */
  readonly partitionColumn?: string;
}

/** Columns the engine adds to targets; their names are part of the artifact and SQL contract. */
export const META_COLUMNS = {
  op: '__dpone__op',
  validFrom: '__dpone__valid_from',
  validTo: '__dpone__valid_to',
  isCurrent: '__dpone__is_current',
  rowHash: '__dpone__row_hash',
} as const;

export function columnIndex(schema: TableSchema, name: string): number {
  const index = schema.columns.findIndex((column) => column.name === name);
  if (index < 0) {
    throw new Error(`column "${name}" is not in schema (${schema.columns.map((c) => c.name).slice(0, 8).join(', ')}…)`);
  }
  return index;
}

/** Returns a schema with extra columns appended (used for metadata columns such as SCD2 validity). */
export function extendSchema(schema: TableSchema, extra: readonly ColumnDef[]): TableSchema {
  return { ...schema, columns: [...schema.columns, ...extra] };
}

/** Freezes a row so that memoised hashes stay valid: a changed row is always a new array. */
export function freezeRow(values: CanonicalValue[]): Row {
  return Object.freeze(values);
}
