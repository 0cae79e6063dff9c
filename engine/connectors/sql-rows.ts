import type { ColumnDef, Row } from '../schema/index.ts';
import { freezeRow, normalizeValue } from '../schema/index.ts';

/** A raw value for an error message: JSON where it can be (strings quoted), else its text (bigint). */
function describeRaw(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * A canonical, frozen row from the raw values a SQL driver returned for `columns` (read through the
 * dialect's read expressions), starting at `offset`. `reader` names the connector in the error thrown
 * for a value that does not normalise, with the column and the raw value.
 */
export function canonicalRow(reader: string, raw: readonly unknown[], columns: readonly ColumnDef[], offset = 0): Row {
  return freezeRow(columns.map((column, index) => {
    const value = raw[offset + index];
    try {
      return normalizeValue(column.family, value);
    } catch (error) {
      throw new Error(`${reader}: column ${column.name} (${column.family}) read back ${describeRaw(value)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }));
}

/** `canonicalRow` of every raw row. */
export function canonicalRows(reader: string, raw: readonly (readonly unknown[])[], columns: readonly ColumnDef[], offset = 0): Row[] {
  return raw.map((values) => canonicalRow(reader, values, columns, offset));
}

/** A count as a server returns it (a number, or text where the driver parses nothing, e.g. UInt64). */
export function parseCount(reader: string, value: unknown): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new Error(`${reader}: expected a count, got ${String(value)}`);
  return parsed;
}
