import type { Row, TableSchema } from '../schema/index.ts';
import { columnIndex } from '../schema/index.ts';
import type { ChangeOp, ChangeRecord, KeyValue } from '../plan/index.ts';
import { dataRowHash, keyOnlyRow, keyOf, lastChangePerKey } from '../plan/index.ts';

/** Rows to stage with their change ops, plus the keys reconciliation must find present or absent. */
export interface StagedDelta {
  readonly rows: Row[];
  readonly ops: ChangeOp[];
  readonly upsertKeys: KeyValue[];
  readonly deletedKeys: KeyValue[];
}

function emptyDelta(): StagedDelta {
  return { rows: [], ops: [], upsertKeys: [], deletedKeys: [] };
}

function add(delta: StagedDelta, row: Row, op: ChangeOp, key: KeyValue): void {
  delta.rows.push(row);
  delta.ops.push(op);
  (op === 'D' ? delta.deletedKeys : delta.upsertKeys).push(key);
}

/** Collapses a change stream to the last change per key (delete-aware upsert input). */
export function deltaFromChanges(changes: readonly ChangeRecord[]): StagedDelta {
  const delta = emptyDelta();
  for (const change of lastChangePerKey(changes)) add(delta, change.row, change.op, change.key);
  return delta;
}

/**
 * Compares a complete snapshot with the target's `key → row hash` map: new keys are inserts,
 * changed hashes updates, and target keys missing from the snapshot deletes (delete_policy=delete).
 */
export function deltaFromSnapshot(schema: TableSchema, rows: readonly Row[], targetHashes: ReadonlyMap<KeyValue, string>): StagedDelta {
  const keyIndex = columnIndex(schema, schema.key);
  const delta = emptyDelta();
  const seen = new Set<KeyValue>();
  for (const row of rows) {
    const key = keyOf(row, keyIndex);
    seen.add(key);
    const current = targetHashes.get(key);
    if (current === undefined) add(delta, row, 'I', key);
    else if (current !== dataRowHash(row)) add(delta, row, 'U', key);
  }
  for (const key of targetHashes.keys()) if (!seen.has(key)) add(delta, keyOnlyRow(schema, key), 'D', key);
  return delta;
}

/** Target keys absent from the source key set, staged as deletes (xmin key reconciliation). */
export function deletesFromKeyReconciliation(
  schema: TableSchema, sourceKeys: readonly KeyValue[], targetKeys: ReadonlySet<KeyValue>,
): StagedDelta {
  const delta = emptyDelta();
  const present = new Set(sourceKeys);
  for (const key of targetKeys) if (!present.has(key)) add(delta, keyOnlyRow(schema, key), 'D', key);
  return delta;
}
