import type { ReconcileResult, Sink, Source, StagingReport } from '../connectors/index.ts';
import type { LoadPlan, PlanBatch, TargetSpec } from '../plan/index.ts';
import type { LoadState, StateStore } from '../state/index.ts';
import type { LoadStrategy, StrategyOptions } from '../strategies/index.ts';
import type { FaultInjector, LifecyclePhase } from './faults.ts';

export interface LoadRequest {
  /** Pipeline id: the key of the state record. */
  readonly pipeline: string;
  readonly source: Source;
  readonly sink: Sink;
  readonly strategy: LoadStrategy;
  /** Where state is read and committed; for a transactional sink, its own `stateStore`. */
  readonly stateStore: StateStore;
  /** Target table or topic; defaults to the pipeline id. */
  readonly targetName?: string;
  readonly options?: StrategyOptions;
  readonly faults?: FaultInjector;
}

export interface PhaseEvent {
  readonly phase: LifecyclePhase;
  readonly batch: string | null;
  readonly status: 'ok' | 'failed';
}

export interface BatchReport {
  readonly id: string;
  readonly staging?: StagingReport;
  readonly reconciliation: readonly ReconcileResult[];
  readonly committed: boolean;
}

export interface LoadReport {
  readonly pipeline: string;
  readonly strategy: string;
  readonly target: TargetSpec;
  readonly loadId: string;
  readonly extractedRows: number;
  readonly stagedRows: number;
  readonly batches: readonly BatchReport[];
  /** Every phase run, in order: the evidence that state was committed last. */
  readonly phases: readonly PhaseEvent[];
  readonly committedState?: LoadState;
}

/** A load that stopped; `report` holds what ran (and shows that no state was committed after the failure). */
export class LoadFailedError extends Error {
  constructor(readonly phase: LifecyclePhase, readonly report: LoadReport, override readonly cause: unknown) {
    super(`load ${report.pipeline} failed at ${phase}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'LoadFailedError';
  }
}

export class ReconciliationError extends Error {
  constructor(readonly results: readonly ReconcileResult[]) {
    const failed = results.filter((result) => !result.passed);
    super(`reconciliation failed: ${failed.map((r) => `${r.check} expected ${r.expected}, observed ${r.observed}`).join('; ')}`);
    this.name = 'ReconciliationError';
  }
}

/**
 * Runs one load through the staged lifecycle:
 * prepare (extract + plan) → per batch: stage → validate_staging → finalize → reconcile →
 * commit_state → cleanup. State is committed only after the batch reconciled; cleanup runs on
 * failure too. With a transactional sink, finalize through commit_state is one transaction: a
 * failure in between rolls back the target too. Throws LoadFailedError naming the phase that failed.
 */
export async function runLoad(request: LoadRequest): Promise<LoadReport> {
  const { pipeline, source, sink, strategy, stateStore, faults } = request;
  const transaction = sink.capabilities.transactional ? sink.transaction : undefined;
  let transactionOpen = false;
  const phases: PhaseEvent[] = [];
  const batches: BatchReport[] = [];
  const target: TargetSpec = {
    name: request.targetName ?? pipeline,
    dataSchema: source.schema,
    shape: strategy.targetShape(sink.capabilities.kind),
  };
  let plan: LoadPlan | undefined;
  let committedState: LoadState | undefined;
  let failedPhase: LifecyclePhase | undefined;

  const report = (): LoadReport => ({
    pipeline, strategy: strategy.name, target, loadId: plan?.loadId ?? '', extractedRows: plan?.extractedRows ?? 0,
    stagedRows: batches.reduce((sum, batch) => sum + (batch.staging?.stagedRows ?? 0), 0),
    batches, phases, committedState,
  });

  async function phase<T>(name: LifecyclePhase, batch: PlanBatch | null, run: () => Promise<T>): Promise<T> {
    try {
      faults?.check({ phase: name, batch: batch?.id ?? 'plan' });
      const value = await run();
      phases.push({ phase: name, batch: batch?.id ?? null, status: 'ok' });
      return value;
    } catch (error) {
      phases.push({ phase: name, batch: batch?.id ?? null, status: 'failed' });
      failedPhase ??= name;
      throw error;
    }
  }

  try {
    const state = await stateStore.load(pipeline);
    plan = await phase('prepare', null, async () => {
      await sink.prepare(target);
      return strategy.plan({ pipeline, source, sink, target, state, options: request.options ?? {} });
    });
    for (const batch of plan.batches) {
      const batchReport = { id: batch.id, reconciliation: [] as ReconcileResult[], committed: false, staging: undefined as StagingReport | undefined };
      batches.push(batchReport);
      let failed = false;
      try {
        await phase('stage', batch, () => sink.stage(batch.staging));
        batchReport.staging = await phase('validate_staging', batch, async () => {
          const staging = await sink.validateStaging(batch.staging);
          if (staging.stagedRows !== staging.expectedRows) {
            throw new Error(`staging ${batch.staging.name} holds ${staging.stagedRows} rows, expected ${staging.expectedRows}`);
          }
          return staging;
        });
        await phase('finalize', batch, async () => {
          if (transaction) {
            await transaction.begin();
            transactionOpen = true;
          }
          await sink.finalize(target, batch.staging, batch.operations, (step) => faults?.check({ phase: 'finalize', batch: batch.id, step }));
        });
        batchReport.reconciliation = await phase('reconcile', batch, async () => {
          const results: ReconcileResult[] = [];
          for (const check of batch.reconcile) results.push(await sink.reconcile(target, check));
          if (results.some((result) => !result.passed)) throw new ReconciliationError(results);
          return results;
        });
        await phase('commit_state', batch, async () => {
          await stateStore.commit(pipeline, batch.nextState);
          if (transaction) {
            await transaction.commit();
            transactionOpen = false;
          }
          committedState = batch.nextState;
          batchReport.committed = true;
          await source.acknowledge?.(batch.nextState);
        });
      } catch (error) {
        failed = true;
        if (transactionOpen) {
          transactionOpen = false;
          await transaction?.rollback();
        }
        throw error;
      } finally {
        // Cleanup runs after a failure too; its own error only surfaces when nothing failed before it.
        await phase('cleanup', batch, () => sink.cleanup(batch.staging)).catch((cleanupError: unknown) => {
          if (!failed) throw cleanupError;
        });
      }
    }
    return report();
  } catch (error) {
    throw new LoadFailedError(failedPhase ?? 'prepare', report(), error);
  }
}
