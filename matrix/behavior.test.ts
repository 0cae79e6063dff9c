import { describe, expect, test } from 'vitest';
import type { LoadPlan, PlanBatch, PlanOperation } from '../engine/plan/index.ts';
import type { LoadStrategy, StrategyName } from '../engine/strategies/index.ts';
import { DEFAULT_STRATEGIES } from '../engine/strategies/index.ts';
import { runCaseBehavior } from './behavior.ts';
import { MATRIX } from './registry.ts';
import type { MatrixCase } from './registry.ts';
import type { BehaviorArtifact } from './results.ts';

const PROFILE = { rows: 1_000, changeRatio: 0.2, deleteRatio: 0.05 };

type BatchMutation = (batch: PlanBatch) => PlanBatch;

/** A strategy that plans like the real one, then breaks its plan in one precise way. */
function mutant(name: StrategyName, mutate: (plan: LoadPlan) => LoadPlan): LoadStrategy {
  const real = DEFAULT_STRATEGIES.get(name);
  return { ...real, plan: async (context) => mutate(await real.plan(context)) };
}

const eachBatch = (mutation: BatchMutation) => (plan: LoadPlan): LoadPlan => ({ ...plan, batches: plan.batches.map(mutation) });

/** Keeps staged rows whose op passes the filter (rows without ops count as inserts). */
const keepOps = (keep: (op: string) => boolean): BatchMutation => (batch) => {
  const indexes = batch.staging.rows.map((_, i) => i).filter((i) => keep(batch.staging.ops?.[i] ?? 'I'));
  return {
    ...batch,
    staging: {
      ...batch.staging,
      rows: indexes.map((i) => batch.staging.rows[i] ?? []),
      ops: batch.staging.ops ? indexes.map((i) => batch.staging.ops?.[i] ?? 'I') : undefined,
    },
  };
};

const mapOperations = (change: (operation: PlanOperation) => PlanOperation): BatchMutation => (batch) => ({
  ...batch, operations: batch.operations.map(change),
});

/** One semantic break per strategy, each the kind of bug a real implementation could ship. */
const MUTANTS: Record<StrategyName, { readonly bug: string; readonly strategy: LoadStrategy }> = {
  full_refresh: {
    bug: 'loses the last row of the snapshot',
    strategy: mutant('full_refresh', eachBatch((batch) => ({ ...batch, staging: { ...batch.staging, rows: batch.staging.rows.slice(0, -1) } }))),
  },
  incremental_append: { bug: 'drops delete events', strategy: mutant('incremental_append', eachBatch(keepOps((op) => op !== 'D'))) },
  incremental_merge: {
    bug: 'upserts deletes instead of removing them',
    strategy: mutant('incremental_merge', eachBatch((batch) => ({ ...batch, staging: { ...batch.staging, ops: batch.staging.ops?.map((op) => (op === 'D' ? 'U' : op)) } }))),
  },
  replace: {
    bug: 'replaces a window one key too narrow (tables) or forgets tombstones for keys that left it (logs)',
    strategy: mutant('replace', eachBatch((batch) => keepOps((op) => op !== 'D')(mapOperations((operation) => (operation.kind === 'replace_window'
      ? { ...operation, predicate: { ...operation.predicate, lo: Number(operation.predicate.lo) + 1 } } : operation))(batch)))),
  },
  snapshot_diff: { bug: 'ignores target-only keys', strategy: mutant('snapshot_diff', eachBatch(keepOps((op) => op !== 'D'))) },
  partition_replace: {
    bug: 'clears only the last staged partition',
    strategy: mutant('partition_replace', eachBatch(mapOperations((operation) => (operation.kind === 'replace_partitions'
      ? { ...operation, partitions: operation.partitions.slice(-1) } : operation)))),
  },
  scd2: {
    bug: 'closes versions at the wrong instant',
    strategy: mutant('scd2', eachBatch(mapOperations((operation) => (operation.kind === 'scd2_expire_insert'
      ? { ...operation, asOf: operation.asOf - 1 } : operation)))),
  },
  backfill: { bug: 'skips the last chunk', strategy: mutant('backfill', (plan) => ({ ...plan, batches: plan.batches.slice(0, -1) })) },
  xmin: { bug: 'forgets the key reconciliation (deletes)', strategy: mutant('xmin', eachBatch(keepOps((op) => op !== 'D'))) },
  cdc: { bug: 'drops delete events', strategy: mutant('cdc', eachBatch(keepOps((op) => op !== 'D'))) },
};

/** One case per strategy and sink kind: a relational sink and, where supported, Kafka. */
function representativeCases(strategy: StrategyName): MatrixCase[] {
  const ofStrategy = MATRIX.filter((candidate) => candidate.strategy === strategy);
  return [ofStrategy.find((c) => c.sink === 'postgres'), ofStrategy.find((c) => c.sink === 'kafka')]
    .filter((found): found is MatrixCase => found !== undefined);
}

const failedChecks = (artifact: BehaviorArtifact) => artifact.quality_check_results.filter((check) => !check.passed).map((check) => check.name);

describe('the matrix notices broken strategy semantics', () => {
  for (const [name, { bug, strategy }] of Object.entries(MUTANTS) as [StrategyName, (typeof MUTANTS)[StrategyName]][]) {
    for (const matrixCase of representativeCases(name)) {
      test(`${matrixCase.id}: passes with the real strategy, fails when it ${bug}`, async () => {
        const real = await runCaseBehavior(matrixCase, { profile: PROFILE, runMode: 'mock_contract' });
        expect(failedChecks(real)).toEqual([]);
        expect(real.passed).toBe(true);

        const broken = await runCaseBehavior(matrixCase, {
          profile: PROFILE, runMode: 'mock_contract', strategies: DEFAULT_STRATEGIES.with(strategy),
        });
        expect(broken.passed).toBe(false);
        // The failure is visible in the evidence, not only in the verdict.
        const evidence = failedChecks(broken).length > 0 || broken.load_error !== null
          || broken.actual_checksum !== broken.expected_checksum;
        expect(evidence).toBe(true);
      });
    }
  }
});

describe('behavior artifact', () => {
  test('carries the runbook fields with the default-volume figures', async () => {
    const matrixCase = MATRIX.find((c) => c.id === 'postgres_to_mssql__incremental_merge');
    expect(matrixCase).toBeDefined();
    if (!matrixCase) return;
    const artifact = await runCaseBehavior(matrixCase, { profile: { rows: 10_000, changeRatio: 0.2, deleteRatio: 0.05 }, runMode: 'mock_contract' });
    expect(artifact).toMatchObject({
      case_id: 'postgres_to_mssql__incremental_merge', strategy: 'incremental_merge', run_mode: 'mock_contract', provider: 'memory',
      configured_row_count: 10_000, changed_row_count: 2_000, deleted_row_count: 500, updated_row_count: 1_000, inserted_row_count: 500,
      target_before_count: 10_000, source_row_count: 2_000, expected_row_count: 10_000, actual_row_count: 10_000, skip_reason: null, passed: true,
    });
    expect(artifact.actual_checksum).toBe(artifact.expected_checksum);
    expect(artifact.quality_checks).toEqual(expect.arrayContaining([
      'row_count_matches_source_snapshot', 'checksum_matches_source_snapshot', 'delete_keys_absent', 'wide_columns_preserved', 'no_unexpected_null_density',
    ]));
    expect(artifact.samples?.actual_rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(artifact).length).toBeLessThan(25_000);
  });

  test.each([
    ['postgres_to_clickhouse__incremental_append', 12_000, 10_000],
    ['postgres_to_postgres__scd2', 11_500, 10_000],
    ['kafka_to_kafka__incremental_append', 12_000, 12_000],
    ['rest_api_to_kafka__snapshot_diff', 10_000, 10_000],
  ])('%s lands %i rows', async (id, rows, currentOrCompacted) => {
    const matrixCase = MATRIX.find((c) => c.id === id);
    if (!matrixCase) throw new Error(`no case ${id}`);
    const artifact = await runCaseBehavior(matrixCase, { profile: { rows: 10_000, changeRatio: 0.2, deleteRatio: 0.05 }, runMode: 'mock_contract' });
    expect(artifact.passed).toBe(true);
    expect(artifact.actual_row_count).toBe(rows);
    if (matrixCase.strategy === 'scd2') {
      expect(artifact.expected_current_row_count).toBe(currentOrCompacted);
      expect(artifact.actual_current_row_count).toBe(currentOrCompacted);
    } else {
      expect(artifact.actual_current_row_count).toBeNull();
    }
  });
});
