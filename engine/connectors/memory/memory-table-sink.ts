import type { Row } from '../../schema/index.ts';
import { dataRowOf, extendRow } from '../../schema/index.ts';
import type {
  ChangeOp, KeyValue, PlanOperation, ReconcileCheck, StagedBatch, TargetLayout, TargetSpec,
} from '../../plan/index.ts';
import { dataRowHash, keyOf, rowMatcher, targetLayout, toTargetRow } from '../../plan/index.ts';
import type { LoadState, StateStore } from '../../state/index.ts';
import { MemoryStateStore } from '../../state/index.ts';
import type { ReconcileResult, Sink, SinkCapabilities, SinkTransaction, StagingReport, StepHook, TargetContent } from '../sink.ts';
import { reconcileResult } from '../sink.ts';

type OperationOf<K extends PlanOperation['kind']> = Extract<PlanOperation, { kind: K }>;
type Interpreter<K extends PlanOperation['kind']> = (
  rows: Row[], op: OperationOf<K>, staged: StagedBatch, layout: TargetLayout, target: TargetSpec,
) => Row[];

const opAt = (staged: StagedBatch, index: number): ChangeOp => staged.ops?.[index] ?? 'I';

/**
 * How the memory sink interprets each IR node. The record is exhaustive over the IR union, so a new
 * node kind does not compile until it is handled here (as in every SQL compiler).
 */
const INTERPRETERS: { [K in PlanOperation['kind']]: Interpreter<K> } = {
  append: (rows, _op, staged, _layout, target) => {
    staged.rows.forEach((row, i) => rows.push(toTargetRow(row, target.shape, opAt(staged, i), 0)));
    return rows;
  },
  merge: (rows, _op, staged, layout, target) => {
    const byKey = new Map<KeyValue, Row>();
    for (const row of rows) byKey.set(keyOf(row, layout.keyIndex), row);
    staged.rows.forEach((row, i) => {
      const key = keyOf(row, layout.keyIndex);
      if (opAt(staged, i) === 'D') byKey.delete(key);
      else byKey.set(key, toTargetRow(row, target.shape, opAt(staged, i), 0));
    });
    return [...byKey.values()];
  },
  replace_window: (rows, op, staged, layout, target) => {
    const inWindow = rowMatcher(layout.schema, op.predicate);
    const kept = rows.filter((row) => !inWindow(row));
    for (const row of staged.rows) kept.push(toTargetRow(row, target.shape, 'I', 0));
    return kept;
  },
  replace_partitions: (rows, op, staged, layout, target) => {
    const inPartitions = rowMatcher(layout.schema, { kind: 'in', column: op.column, values: op.partitions });
    const kept = rows.filter((row) => !inPartitions(row));
    for (const row of staged.rows) kept.push(toTargetRow(row, target.shape, 'I', 0));
    return kept;
  },
  scd2_expire_insert: (rows, op, staged, layout, target) => {
    const currentIndexByKey = new Map<KeyValue, number>();
    rows.forEach((row, index) => {
      if (row[layout.isCurrentIndex] === true) currentIndexByKey.set(keyOf(row, layout.keyIndex), index);
    });
    staged.rows.forEach((row, i) => {
      const index = currentIndexByKey.get(keyOf(row, layout.keyIndex));
      if (index !== undefined) {
        const current = rows[index] as Row;
        const meta = current.slice(layout.dataWidth);
        meta[layout.validToIndex - layout.dataWidth] = op.asOf;
        meta[layout.isCurrentIndex - layout.dataWidth] = false;
        rows[index] = extendRow(dataRowOf(current, layout.dataWidth), meta);
      }
      if (opAt(staged, i) !== 'D') rows.push(toTargetRow(row, target.shape, opAt(staged, i), op.asOf));
    });
    return rows;
  },
  swap: (_rows, _op, staged, _layout, target) => staged.rows.map((row) => toTargetRow(row, target.shape, 'I', 0)),
  emit_events: () => {
    throw new Error('emit_events is an event-log operation; a relational sink cannot execute it');
  },
};

function interpret(rows: Row[], op: PlanOperation, staged: StagedBatch, layout: TargetLayout, target: TargetSpec): Row[] {
  const interpreter = INTERPRETERS[op.kind] as Interpreter<typeof op.kind>;
  return interpreter(rows, op, staged, layout, target);
}

/**
 * A relational sink held in memory. It interprets the LoadPlan IR with the semantics the SQL
 * dialects compile to, and it is transactional: inside a transaction finalize works on a copy and
 * the pipeline state is buffered; commit publishes both, rollback drops both.
 */
export class MemoryTableSink implements Sink {
  readonly family = 'memory';
  readonly capabilities: SinkCapabilities = {
    kind: 'relational', transactional: true, upsert: true, partitionExchange: true, tombstones: false,
  };
  readonly transaction: SinkTransaction;
  readonly stateStore: StateStore;
  /** Rows as committed: what a reader outside the load sees. */
  private rows: Row[];
  /** Rows of the open transaction, if one is open and finalize ran. */
  private pending?: Row[];
  private pendingStates?: Map<string, LoadState>;
  private readonly staging = new Map<string, StagedBatch>();
  private countBeforeFinalize = 0;
  private keyCache?: { readonly rows: readonly Row[]; readonly keys: Set<KeyValue> };

  /**
   * @param initialRows target content before the load, in the target schema.
   * @param committedStates the state table; commits reach it only when the transaction commits.
   */
  constructor(initialRows: readonly Row[] = [], private readonly committedStates: StateStore = new MemoryStateStore()) {
    this.rows = [...initialRows];
    this.transaction = {
      begin: async () => {
        this.pendingStates = new Map();
      },
      commit: async () => {
        if (this.pending) this.rows = this.pending;
        for (const [pipeline, state] of this.pendingStates ?? []) await this.committedStates.commit(pipeline, state);
        this.pending = undefined;
        this.pendingStates = undefined;
      },
      rollback: async () => {
        this.pending = undefined;
        this.pendingStates = undefined;
      },
    };
    this.stateStore = {
      load: async (pipeline) => this.pendingStates?.get(pipeline) ?? this.committedStates.load(pipeline),
      commit: async (pipeline, state) => {
        if (this.pendingStates) this.pendingStates.set(pipeline, state);
        else await this.committedStates.commit(pipeline, state);
      },
    };
  }

  /** Drops staging left by an earlier load that failed before its cleanup (one load per target at a time). */
  async prepare(): Promise<void> {
    this.staging.clear();
    this.countBeforeFinalize = this.visibleRows().length;
  }

  async currentHashes(target: TargetSpec): Promise<Map<KeyValue, string>> {
    const layout = targetLayout(target);
    const hashes = new Map<KeyValue, string>();
    for (const row of this.currentRows(layout)) {
      const stored = layout.hashIndex >= 0 ? row[layout.hashIndex] : null;
      hashes.set(keyOf(row, layout.keyIndex), typeof stored === 'string' ? stored : dataRowHash(dataRowOf(row, layout.dataWidth)));
    }
    return hashes;
  }

  async currentKeys(target: TargetSpec): Promise<Set<KeyValue>> {
    // Keys are asked for several times between two finalizes (plan, then each reconcile check).
    const rows = this.visibleRows();
    if (this.keyCache?.rows !== rows) {
      const layout = targetLayout(target);
      this.keyCache = { rows, keys: new Set(this.currentRows(layout).map((row) => keyOf(row, layout.keyIndex))) };
    }
    return this.keyCache.keys;
  }

  async stage(batch: StagedBatch): Promise<void> {
    this.staging.set(batch.name, { ...batch, rows: [...batch.rows], ops: batch.ops ? [...batch.ops] : undefined });
  }

  async validateStaging(batch: StagedBatch): Promise<StagingReport> {
    return { stagedRows: this.stagedBatch(batch.name).rows.length, expectedRows: batch.rows.length };
  }

  async finalize(target: TargetSpec, batch: StagedBatch, operations: readonly PlanOperation[], onStep: StepHook): Promise<void> {
    const before = this.visibleRows();
    this.countBeforeFinalize = before.length;
    const staged = this.stagedBatch(batch.name);
    const layout = targetLayout(target);
    let working = [...before];
    operations.forEach((operation, step) => {
      onStep(step);
      working = interpret(working, operation, staged, layout, target);
    });
    // Outside a transaction each finalize is still atomic: the copy replaces the rows at the end.
    if (this.pendingStates) this.pending = working;
    else this.rows = working;
  }

  async reconcile(target: TargetSpec, check: ReconcileCheck): Promise<ReconcileResult> {
    const layout = targetLayout(target);
    switch (check.kind) {
      case 'row_count': {
        const matches = check.predicate ? rowMatcher(layout.schema, check.predicate) : () => true;
        return reconcileResult(check, check.equals, this.visibleRows().filter(matches).length);
      }
      case 'row_count_delta':
        return reconcileResult(check, check.equals, this.visibleRows().length - this.countBeforeFinalize);
      case 'current_rows':
        return reconcileResult(check, check.equals, this.currentRows(layout).length);
      case 'keys_present':
      case 'keys_absent': {
        const keys = await this.currentKeys(target);
        const found = check.keys.filter((key) => keys.has(key)).length;
        return reconcileResult(check, check.kind === 'keys_present' ? check.keys.length : 0, found);
      }
    }
  }

  async cleanup(batch: StagedBatch): Promise<void> {
    this.staging.delete(batch.name);
  }

  async read(target: TargetSpec): Promise<TargetContent> {
    return { schema: targetLayout(target).schema, rows: this.rows };
  }

  /** Names of staging tables still present (a leak after cleanup is a defect). */
  stagingTables(): string[] {
    return [...this.staging.keys()];
  }

  private stagedBatch(name: string): StagedBatch {
    const staged = this.staging.get(name);
    if (!staged) throw new Error(`staging table ${name} does not exist`);
    return staged;
  }

  /** Rows as the load sees them: the open transaction's, else the committed ones. */
  private visibleRows(): readonly Row[] {
    return this.pending ?? this.rows;
  }

  private currentRows(layout: TargetLayout): readonly Row[] {
    const rows = this.visibleRows();
    return layout.isCurrentIndex < 0 ? rows : rows.filter((row) => row[layout.isCurrentIndex] === true);
  }
}
