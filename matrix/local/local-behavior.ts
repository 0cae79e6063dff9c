import { createHash, randomBytes } from 'node:crypto';
import type { TargetSpec } from '../../engine/plan/index.ts';
import { stableJson } from '../../engine/schema/index.ts';
import { DEFAULT_STRATEGIES } from '../../engine/strategies/index.ts';
import { expectationFor } from '../../fixtures/oracle.ts';
import { sourceFixture } from '../../fixtures/source-fixture.ts';
import type { VolumeProfile } from '../../fixtures/volume-profile.ts';
import { RssSampler } from '../../bench/process-tree.ts';
import { behaviorArtifactOf } from '../behavior.ts';
import { sinkFamily } from '../families.ts';
import { attemptLoad } from '../memory-harness.ts';
import { evaluateQualityChecks, QUALITY_CHECKS } from '../quality-checks.ts';
import type { MatrixCase, RunMode } from '../registry.ts';
import type { BehaviorArtifact, CaseReconciliationEvidence } from '../results.ts';
import type { HarnessPool } from './harness-pool.ts';
import type { RunServices } from './run-services.ts';
import { caseProvider, caseServices } from './run-services.ts';

/** The target's table or topic name inside the case's namespace. */
const TARGET_NAME = 'dpone_target';
/** Distinguishes this worker's namespaces from those of earlier runs on a shared (external) service. */
const PROCESS_TOKEN = randomBytes(3).toString('hex');

export interface LocalBehaviorOptions {
  readonly profile: VolumeProfile;
  readonly runMode: RunMode;
  readonly services: RunServices;
  readonly harnesses: HarnessPool;
}

/** A schema/database/topic-prefix name for a case: lowercase, ≤ 40 characters, unique per run. */
function caseNamespace(caseId: string, token = PROCESS_TOKEN): string {
  return `d_${createHash('sha256').update(caseId).digest('hex').slice(0, 12)}_${token}`;
}

/**
 * Runs one case against real services: the source family's harness builds the fixture's base rows
 * on its service, takes the base cursor and applies the delta as real writes; the sink family's
 * harness builds the target's before-state with that cursor committed; the engine loads; the
 * target is read back from the service and judged by the same oracle, checksum and quality checks
 * as mock_contract. Per-case namespaces are released afterwards, also on failure.
 */
export async function runLocalCaseBehavior(matrixCase: MatrixCase, options: LocalBehaviorOptions): Promise<BehaviorArtifact> {
  const started = performance.now();
  const fixture = sourceFixture(matrixCase.source, options.profile);
  const strategy = DEFAULT_STRATEGIES.get(matrixCase.strategy);
  const sinkKind = sinkFamily(matrixCase.sink).kind;
  const target: TargetSpec = { name: TARGET_NAME, dataSchema: fixture.schema, shape: strategy.targetShape(sinkKind) };
  const expectation = expectationFor(strategy.name, sinkKind, fixture);
  const namespace = caseNamespace(matrixCase.id);
  const pipeline = matrixCase.id;
  const services = caseServices(matrixCase, options.services);
  const [sourceHarness, sinkHarness] = await Promise.all([options.harnesses.source(matrixCase.source), options.harnesses.sink(matrixCase.sink)]);

  const seededSource = await sourceHarness.seedSource(fixture, namespace);
  try {
    const seededSink = await sinkHarness.seedSink(fixture, target, namespace, pipeline, seededSource.baseCursor);
    try {
      const { sink, stateStore } = seededSink;
      const stateBefore = await stateStore.load(pipeline);
      const seedSeconds = (performance.now() - started) / 1000;
      const sampler = new RssSampler(process.pid);
      const loadStarted = performance.now();
      const { report: load, error: loadError } = await attemptLoad({
        pipeline, source: seededSource.source, sink, strategy, stateStore, targetName: target.name,
        options: { window: fixture.window, backfill: fixture.backfill },
      }).finally(() => sampler.stop());
      const loadSeconds = (performance.now() - loadStarted) / 1000;
      const actual = await sink.read(target);
      const storedState = await stateStore.load(pipeline);
      const judgement = evaluateQualityChecks({ fixture, expectation, actual, load, storedState });
      const artifact = behaviorArtifactOf({
        matrixCase, runMode: options.runMode, provider: caseProvider(services), fixture, expectation,
        load, loadError, actual, judgement, durationMs: performance.now() - started,
      });
      const reconciliation: CaseReconciliationEvidence = {
        batches: load.batches.map((batch) => ({
          batch: batch.id,
          staged_rows: batch.staging?.stagedRows ?? null,
          expected_staged_rows: batch.staging?.expectedRows ?? null,
          checks: batch.reconciliation.map((result) => ({ ...result })),
        })),
        target_rows_expected: artifact.expected_row_count,
        target_rows_observed: artifact.actual_row_count,
        checksum_expected: artifact.expected_checksum,
        checksum_observed: artifact.actual_checksum,
        passed: loadError === null && load.batches.every((batch) => batch.committed && batch.reconciliation.every((result) => result.passed))
          && artifact.expected_checksum === artifact.actual_checksum,
      };
      return {
        ...artifact,
        local_evidence: {
          namespace,
          services,
          performance: {
            throughput_rows_per_second: Math.round(load.extractedRows / Math.max(loadSeconds, 1e-6)),
            duration_seconds: Number(loadSeconds.toFixed(3)),
            memory_peak_mb: Math.round(sampler.peak / (1024 * 1024)),
            seed_seconds: Number(seedSeconds.toFixed(3)),
            rows: load.extractedRows,
          },
          state: {
            pipeline,
            store: `${matrixCase.sink} ${sink.stateStore ? 'state table' : 'state store'}`,
            state_before: { ...stateBefore },
            committed_state: load.committedState ? { ...load.committedState } : null,
            stored_state: { ...storedState },
            stored_matches_committed: stableJson(storedState) === stableJson(load.committedState ?? stateBefore),
            committed_after_reconcile: judgement.results.some((result) => result.name === QUALITY_CHECKS.stateOrder && result.passed),
          },
          reconciliation,
        },
      };
    } finally {
      await seededSink.release();
    }
  } finally {
    await seededSource.release();
  }
}
