import type { CanonicalValue, Row, TableSchema } from '../schema/index.ts';
import { columnIndex } from '../schema/index.ts';

/** Inclusive range on one column: the bounded window of the replace strategy. */
export interface RangePredicate {
  readonly kind: 'between';
  readonly column: string;
  readonly lo: number | string;
  readonly hi: number | string;
}

/** Membership of one column's value in a set: the partitions of partition_replace and backfill. */
export interface InPredicate {
  readonly kind: 'in';
  readonly column: string;
  readonly values: readonly (number | string)[];
}

export type RowPredicate = RangePredicate | InPredicate;

/** Compiles a predicate into a row test for in-memory connectors. */
export function rowMatcher(schema: TableSchema, predicate: RowPredicate): (row: Row) => boolean {
  const index = columnIndex(schema, predicate.column);
  if (predicate.kind === 'between') {
    const { lo, hi } = predicate;
    return (row) => {
      const value = row[index] as CanonicalValue;
      return value !== null && value >= lo && value <= hi;
    };
  }
  const values = new Set<CanonicalValue>(predicate.values);
  return (row) => values.has(row[index] ?? null);
}
