import type { CanonicalValue, Row } from '../schema/index.ts';

/** A business key value (the fixtures use integers; REST and Kafka keys may be strings). */
export type KeyValue = string | number;

/** Change operations as stored in `__dpone__op`: insert, update, delete. */
export type ChangeOp = 'I' | 'U' | 'D';

/** One change captured by a source: the after image for I/U, the before image for D. */
export interface ChangeRecord {
  readonly op: ChangeOp;
  readonly key: KeyValue;
  readonly row: Row;
  /** When the change happened, UTC microseconds. */
  readonly at: number;
  /** Source position of the change: transaction id, LSN or offset, as text. */
  readonly position: string;
}

/** Keeps the last change per key, in the order keys were last changed (CDC/merge semantics). */
export function lastChangePerKey(changes: readonly ChangeRecord[]): ChangeRecord[] {
  const latest = new Map<KeyValue, ChangeRecord>();
  for (const change of changes) {
    latest.delete(change.key);
    latest.set(change.key, change);
  }
  return [...latest.values()];
}

export function keyOf(row: Row, keyIndex: number): KeyValue {
  const key: CanonicalValue | undefined = row[keyIndex];
  if (typeof key !== 'number' && typeof key !== 'string') {
    throw new Error(`row has no usable key at column ${keyIndex}: ${String(key)}`);
  }
  return key;
}
