import type { Row } from '../schema/index.ts';
import { hashText } from '../schema/index.ts';
import type { Sink, Source } from '../connectors/index.ts';
import type {
  ChangeOp, LoadPlan, PlanBatch, PlanOperation, RangePredicate, ReconcileCheck, TargetShape, TargetSpec,
} from '../plan/index.ts';
import type { LoadState } from '../state/index.ts';

export const STRATEGY_NAMES = [
  'full_refresh', 'incremental_append', 'incremental_merge', 'replace', 'snapshot_diff',
  'partition_replace', 'scd2', 'backfill', 'xmin', 'cdc',
] as const;

export type StrategyName = (typeof STRATEGY_NAMES)[number];

export type SinkKind = 'relational' | 'event_log';

/** A backfill range over a date partition column, cut into chunks of `chunkSize` partitions. */
export interface BackfillRange {
  readonly column: string;
  readonly from: string;
  readonly to: string;
  readonly chunkSize: number;
}

/** Per-load settings that some strategies need. */
export interface StrategyOptions {
  /** Bounded window the replace strategy reloads. */
  readonly window?: RangePredicate;
  readonly backfill?: BackfillRange;
}

export interface StrategyContext {
  readonly pipeline: string;
  readonly source: Source;
  readonly sink: Sink;
  readonly target: TargetSpec;
  /** State committed by the previous load. */
  readonly state: LoadState;
  readonly options: StrategyOptions;
}

/**
 * A load strategy: reads what it needs from the source (and the target's keys or hashes), and
 * returns a LoadPlan. It never writes; the lifecycle executes the plan.
 */
export interface LoadStrategy {
  readonly name: StrategyName;
  /** Sink kinds the strategy can load. */
  readonly sinkKinds: readonly SinkKind[];
  /** Metadata columns the target carries for this strategy. */
  targetShape(sinkKind: SinkKind): TargetShape;
  plan(context: StrategyContext): Promise<LoadPlan>;
}

/** A load id derived from pipeline, strategy and prior state: a rerun of a failed load reuses it. */
export function loadIdFor(context: StrategyContext, strategy: StrategyName): string {
  return `L${hashText(`${context.pipeline}|${strategy}|${JSON.stringify(context.state)}`)}`;
}

export interface BatchSpec {
  readonly id: string;
  readonly rows: readonly Row[];
  readonly ops?: readonly ChangeOp[];
  readonly operations: readonly PlanOperation[];
  readonly reconcile: readonly ReconcileCheck[];
  readonly nextState: LoadState;
}

/** Assembles a plan; the staging name carries the load id so concurrent loads never share staging. */
export function buildPlan(
  context: StrategyContext, strategy: StrategyName, extractedRows: number, batches: readonly BatchSpec[],
): LoadPlan {
  const loadId = loadIdFor(context, strategy);
  const planned: PlanBatch[] = batches.map((batch) => ({
    id: batch.id,
    staging: {
      name: `stg_${loadId.slice(1, 13)}_${batch.id}`,
      schema: context.target.dataSchema,
      rows: batch.rows,
      ops: batch.ops,
    },
    operations: batch.operations,
    reconcile: batch.reconcile,
    nextState: { ...batch.nextState, loadId },
  }));
  return { strategy, target: context.target, loadId, extractedRows, batches: planned };
}

/** Sink kind of the context, with a clear error when the strategy cannot load it. */
export function requireSinkKind(context: StrategyContext, strategy: LoadStrategy): SinkKind {
  const kind = context.sink.capabilities.kind;
  if (!strategy.sinkKinds.includes(kind)) {
    throw new Error(`strategy ${strategy.name} cannot load a ${kind} sink (${context.sink.family})`);
  }
  return kind;
}
