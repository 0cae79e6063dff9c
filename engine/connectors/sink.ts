import type { Row, TableSchema } from '../schema/index.ts';
import type { KeyValue, PlanOperation, ReconcileCheck, StagedBatch, TargetSpec } from '../plan/index.ts';
import type { StateStore } from '../state/index.ts';

/** Capability flags of a sink; strategies and the matrix branch on these, never on a family name. */
export interface SinkCapabilities {
  /** `relational` tables or an `event_log` (Kafka topic with keyed events and tombstones). */
  readonly kind: 'relational' | 'event_log';
  /** Finalize is atomic: a failure inside it leaves the target as it was. */
  readonly transactional: boolean;
  readonly upsert: boolean;
  readonly partitionExchange: boolean;
  readonly tombstones: boolean;
}

export interface StagingReport {
  readonly stagedRows: number;
  readonly expectedRows: number;
}

export interface ReconcileResult {
  readonly check: ReconcileCheck['kind'];
  readonly expected: number;
  readonly observed: number;
  readonly passed: boolean;
}

/** Rows of a target as a table, in its target schema; for an event log, its compacted or raw view. */
export interface TargetContent {
  readonly schema: TableSchema;
  readonly rows: readonly Row[];
  /** Distinct events in the log, by event id (event-log sinks only; at-least-once retries repeat ids). */
  readonly eventCount?: number;
  /** Keys whose last event is a tombstone (event-log sinks only). */
  readonly tombstonedKeys?: ReadonlySet<KeyValue>;
}

/** Called by sinks between the steps of a finalize, so tests can inject faults mid-operation. */
export type StepHook = (step: number) => void;

/** The unit of work of a transactional sink: finalize, reconcile and the state commit. */
export interface SinkTransaction {
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/** A sink connector. One instance loads one target. */
export interface Sink {
  readonly family: string;
  readonly capabilities: SinkCapabilities;
  /**
   * Transactional sinks: the lifecycle opens the transaction before finalize and commits it after
   * the state commit, so a failure at finalize, reconcile or commit_state leaves target and state
   * as they were. The state must then be written through `stateStore`, which shares the transaction.
   */
  readonly transaction?: SinkTransaction;
  /** The sink's own state table (`etl_state.__dpone__loads`), when it has one. */
  readonly stateStore?: StateStore;
  /** Ensures the target exists and notes what reconciliation needs (e.g. the row count before). */
  prepare(target: TargetSpec): Promise<void>;
  /** Key → `__dpone__row_hash` of the target's current rows (snapshot_diff and scd2). */
  currentHashes(target: TargetSpec): Promise<Map<KeyValue, string>>;
  /** Keys of the target's current rows (xmin delete reconciliation, event-log replace). */
  currentKeys(target: TargetSpec): Promise<Set<KeyValue>>;
  stage(batch: StagedBatch): Promise<void>;
  validateStaging(batch: StagedBatch): Promise<StagingReport>;
  finalize(target: TargetSpec, batch: StagedBatch, operations: readonly PlanOperation[], onStep: StepHook): Promise<void>;
  reconcile(target: TargetSpec, check: ReconcileCheck): Promise<ReconcileResult>;
  /** Drops staging; safe to call after a failure at any phase. */
  cleanup(batch: StagedBatch): Promise<void>;
  /** Reads the target back (tests and the matrix judge this, not what the engine believes it wrote). */
  read(target: TargetSpec): Promise<TargetContent>;
  close?(): Promise<void>;
}

/** A reconciliation outcome; passed only when the observed figure equals the expected one. */
export function reconcileResult(check: ReconcileCheck, expected: number, observed: number): ReconcileResult {
  return { check: check.kind, expected, observed, passed: expected === observed };
}
