import type { Row, TableSchema } from '../schema/index.ts';
import type { ChangeOp, KeyValue } from './change.ts';
import type { RangePredicate, RowPredicate } from './predicate.ts';
import type { LoadState } from '../state/load-state.ts';

/**
 * What a target table carries besides the source columns:
 * - `plain`: the source columns only;
 * - `changelog`: plus `__dpone__op` (append keeps every change as a row);
 * - `hashed`: plus `__dpone__row_hash` (snapshot_diff compares by key and hash);
 * - `scd2`: plus row hash and `__dpone__valid_from`/`__dpone__valid_to`/`__dpone__is_current`.
 */
export type TargetShape = 'plain' | 'changelog' | 'hashed' | 'scd2';

export interface TargetSpec {
  /** Table or topic name. */
  readonly name: string;
  /** Source columns (business fields and the wide payload). */
  readonly dataSchema: TableSchema;
  readonly shape: TargetShape;
}

/** Rows a batch stages before finalize; `ops` marks each row's change when the batch is a delta. */
export interface StagedBatch {
  readonly name: string;
  readonly schema: TableSchema;
  readonly rows: readonly Row[];
  readonly ops?: readonly ChangeOp[];
}

/**
 * The LoadPlan IR. Every operation reads the batch's staging table; strategies emit these nodes and
 * know nothing about SQL or drivers. Sinks interpret them (memory) or compile them (SQL dialects).
 */
export type PlanOperation =
  | { readonly kind: 'append' }
  | { readonly kind: 'merge' }
  | { readonly kind: 'replace_window'; readonly predicate: RangePredicate }
  | { readonly kind: 'replace_partitions'; readonly column: string; readonly partitions: readonly string[] }
  | { readonly kind: 'scd2_expire_insert'; readonly asOf: number }
  | { readonly kind: 'swap' }
  | { readonly kind: 'emit_events'; readonly mode: 'changelog' | 'upsert' };

export type PlanOperationKind = PlanOperation['kind'];

/** Checks the engine runs against the target after finalize and before the state commit. */
export type ReconcileCheck =
  | { readonly kind: 'row_count'; readonly equals: number; readonly predicate?: RowPredicate }
  | { readonly kind: 'row_count_delta'; readonly equals: number }
  | { readonly kind: 'keys_present'; readonly keys: readonly KeyValue[] }
  | { readonly kind: 'keys_absent'; readonly keys: readonly KeyValue[] }
  | { readonly kind: 'current_rows'; readonly equals: number };

export interface PlanBatch {
  /** Stable id of the batch (backfill chunk id); part of the state so a rerun can resume. */
  readonly id: string;
  readonly staging: StagedBatch;
  readonly operations: readonly PlanOperation[];
  readonly reconcile: readonly ReconcileCheck[];
  /** State committed once this batch reconciled. */
  readonly nextState: LoadState;
}

export interface LoadPlan {
  readonly strategy: string;
  readonly target: TargetSpec;
  /** Deterministic id: the same extraction yields the same load id, so a rerun is recognisable. */
  readonly loadId: string;
  readonly extractedRows: number;
  readonly batches: readonly PlanBatch[];
}
