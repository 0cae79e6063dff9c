import { describe, expect, test } from 'vitest';
import type {
  ReconcileResult, Sink, SinkCapabilities, Source, StagingReport, StepHook, TargetContent,
} from '../connectors/index.ts';
import { EVENTS_PER_STEP, MemoryEventLogSink, MemoryTableSink } from '../connectors/index.ts';
import type { LogEvent } from '../connectors/index.ts';
import { dataRowHash } from '../plan/index.ts';
import type { KeyValue, LoadPlan, PlanOperation, ReconcileCheck, StagedBatch, TargetSpec } from '../plan/index.ts';
import type { LoadState, StateStore } from '../state/index.ts';
import { MemoryStateStore } from '../state/index.ts';
import type { LoadStrategy, SinkKind, StrategyName } from '../strategies/index.ts';
import { DEFAULT_STRATEGIES } from '../strategies/index.ts';
import type { LifecyclePhase } from './faults.ts';
import { failOnceAt, InjectedFault, LIFECYCLE_PHASES } from './faults.ts';
import type { LoadReport } from './run-load.ts';
import { LoadFailedError, ReconciliationError, runLoad } from './run-load.ts';
import { tableChecksum } from '../../fixtures/checksum.ts';
import { expectationFor } from '../../fixtures/oracle.ts';
import { memorySourceFor, targetBeforeRows } from '../../fixtures/scenario.ts';
import type { SourceFixture } from '../../fixtures/source-fixture.ts';
import { buildSourceFixture } from '../../fixtures/source-fixture.ts';
import { sourceFamily } from '../../matrix/families.ts';
import { MemoryLoadHarness } from '../../matrix/memory-harness.ts';
import { QUALITY_CHECKS } from '../../matrix/quality-checks.ts';

/**
 * The lifecycle contract with in-memory connectors: phases run in order, state is committed last
 * and only after reconciliation, a fault anywhere before the commit leaves the state where it was,
 * and a rerun after any single fault converges to the oracle.
 */

const PIPELINE = 'orders';
const CAPABILITIES = sourceFamily('postgres').capabilities;
/** 2,000 rows: 200 updates, 100 deletes, 100 inserts; every event-log batch spans ≥ 2 finalize steps. */
const FIXTURE = buildSourceFixture('postgres', { rows: 2_000, changeRatio: 0.2, deleteRatio: 0.05 });
const BATCH_PHASES = ['stage', 'validate_staging', 'finalize', 'reconcile', 'commit_state', 'cleanup'] as const;
/** Strategies that read only what changed since the committed state. */
const DELTA_READERS: readonly StrategyName[] = ['incremental_append', 'incremental_merge', 'cdc', 'xmin', 'partition_replace', 'backfill'];
/** Phases that run before the target is written: a fault there leaves every sink untouched. */
const BEFORE_WRITE: readonly LifecyclePhase[] = ['prepare', 'stage', 'validate_staging', 'finalize'];

const STRATEGIES_BY_KIND: Record<SinkKind, readonly StrategyName[]> = {
  relational: ['full_refresh', 'incremental_append', 'incremental_merge', 'replace', 'snapshot_diff',
    'partition_replace', 'scd2', 'backfill', 'xmin', 'cdc'],
  event_log: ['full_refresh', 'incremental_append', 'incremental_merge', 'replace', 'snapshot_diff', 'xmin', 'cdc'],
};

/**
 * Engine defects this suite exposes (see the report that came with it). Each combination is run as
 * an expected failure, so the suite turns red as soon as the engine is fixed and the entry must go.
 */
const KNOWN_DEFECTS: Readonly<Record<string, string>> = {};

function harnessFor(kind: SinkKind, name: StrategyName, fixture: SourceFixture = FIXTURE): MemoryLoadHarness {
  return new MemoryLoadHarness(fixture, PIPELINE, CAPABILITIES, kind, DEFAULT_STRATEGIES.get(name));
}

function tableSink(harness: MemoryLoadHarness): MemoryTableSink {
  if (!(harness.sink instanceof MemoryTableSink)) throw new Error('not a table sink');
  return harness.sink;
}

function eventLog(harness: MemoryLoadHarness): MemoryEventLogSink {
  if (!(harness.sink instanceof MemoryEventLogSink)) throw new Error('not an event-log sink');
  return harness.sink;
}

const checksumOf = (content: TargetContent) => tableChecksum(content.rows);
const failedChecks = (results: readonly { name: string; passed: boolean }[]) => results.filter((r) => !r.passed).map((r) => r.name);
const okPhases = (report: LoadReport, phase: LifecyclePhase) => report.phases.filter((e) => e.phase === phase && e.status === 'ok');

const hashOrNull = (value: LogEvent['value']) => (value === null ? null : dataRowHash(value));

/** A log read by a consumer that drops repeated event ids; throws when one id names two different events. */
function dedupeById(events: readonly LogEvent[]): LogEvent[] {
  const byId = new Map<string, LogEvent>();
  for (const event of events) {
    const seen = byId.get(event.id);
    if (!seen) byId.set(event.id, event);
    else if (seen.key !== event.key || seen.op !== event.op || hashOrNull(seen.value) !== hashOrNull(event.value)) {
      throw new Error(`event id ${event.id} names two different events (key ${String(seen.key)} and ${String(event.key)})`);
    }
  }
  return [...byId.values()];
}

/** Staged rows of a clean load of the case: tells how many finalize steps an event-log batch has. */
async function stagedRowsOfCleanLoad(kind: SinkKind, name: StrategyName): Promise<number> {
  const { report, error } = await harnessFor(kind, name).load();
  expect(error).toBeNull();
  return report.stagedRows;
}

describe('phase order of a completed load', () => {
  test('a single-batch load runs prepare, then stage → validate_staging → finalize → reconcile → commit_state → cleanup', async () => {
    const harness = harnessFor('relational', 'incremental_merge');
    const { report, error } = await harness.load();
    expect(error).toBeNull();
    expect(report.phases).toEqual([
      { phase: 'prepare', batch: null, status: 'ok' },
      ...BATCH_PHASES.map((phase) => ({ phase, batch: 'delta', status: 'ok' })),
    ]);
    expect(report.batches.map((batch) => [batch.id, batch.committed])).toEqual([['delta', true]]);
    expect(harness.stateStore.commits.map((c) => c.state)).toEqual([report.committedState]);
  });

  test('a multi-batch backfill repeats the batch phases per chunk, committing each chunk after its reconcile', async () => {
    const fixture = multiChunkFixture();
    const harness = harnessFor('relational', 'backfill', fixture);
    const { report, error } = await harness.load();
    expect(error).toBeNull();
    const ids = report.batches.map((batch) => batch.id);
    expect(ids.length).toBeGreaterThanOrEqual(3);
    expect(report.phases).toEqual([
      { phase: 'prepare', batch: null, status: 'ok' },
      ...ids.flatMap((id) => BATCH_PHASES.map((phase) => ({ phase, batch: id, status: 'ok' }))),
    ]);
    for (const id of ids) {
      const at = (phase: LifecyclePhase) => report.phases.findIndex((e) => e.batch === id && e.phase === phase);
      expect(at('commit_state')).toBeGreaterThan(at('reconcile'));
      expect(at('reconcile')).toBeGreaterThan(at('finalize'));
    }
    // One commit per chunk, each adding that chunk to completedChunks.
    expect(harness.stateStore.commits.map((c) => c.state.completedChunks)).toEqual(ids.map((_, i) => ids.slice(0, i + 1)));
  });

  test('the connectors see the calls in that order: the state store commit comes after every reconcile call', async () => {
    const calls: string[] = [];
    const sink = new RecordingSink(new MemoryTableSink(targetBeforeRows(FIXTURE, 'plain')), calls);
    const stateStore = new RecordingStateStore(memorySourceFor(FIXTURE, CAPABILITIES).baseCursor(), calls);
    const source = new AcknowledgingSource(memorySourceFor(FIXTURE, CAPABILITIES), calls);
    await runLoad({
      pipeline: PIPELINE, source, sink, stateStore, strategy: DEFAULT_STRATEGIES.get('incremental_merge'),
    });
    // incremental_merge reconciles keys_present and keys_absent.
    expect(calls).toEqual([
      'state.load', 'sink.prepare', 'source.readChanges', 'sink.stage', 'sink.validateStaging', 'sink.finalize',
      'sink.reconcile:keys_present', 'sink.reconcile:keys_absent', 'state.commit', 'source.acknowledge', 'sink.cleanup',
    ]);
  });
});

interface FaultCase {
  readonly id: string;
  readonly kind: SinkKind;
  readonly strategy: StrategyName;
  readonly phase: LifecyclePhase;
  readonly step?: number;
}

function faultCases(): FaultCase[] {
  const cases: FaultCase[] = [];
  for (const kind of ['relational', 'event_log'] as const) {
    for (const strategy of STRATEGIES_BY_KIND[kind]) {
      for (const phase of LIFECYCLE_PHASES) {
        cases.push({ id: `${kind}/${strategy}/${phase}`, kind, strategy, phase });
      }
      // Inside finalize: relational batches have one operation (step 0, then the swap); event-log
      // batches emit chunks of EVENTS_PER_STEP events, and step 1 fails after the first chunk.
      const step = kind === 'relational' ? 0 : 1;
      cases.push({ id: `${kind}/${strategy}/finalize@${step}`, kind, strategy, phase: 'finalize', step });
    }
  }
  return cases;
}

describe('a single injected fault: no state commit before commit_state, and a rerun converges to the oracle', () => {
  for (const faultCase of faultCases()) {
    const known = KNOWN_DEFECTS[faultCase.id];
    const title = `${faultCase.id}${known ? ` [known defect: ${known}]` : ''}`;
    (known ? test.fails : test)(title, async () => {
      const { kind, strategy, phase, step } = faultCase;
      const harness = harnessFor(kind, strategy);
      const baseCursor = harness.source.baseCursor();
      const before = await harness.read();
      const logBefore = kind === 'event_log' ? [...eventLog(harness).log()] : [];
      if (step !== undefined && kind === 'event_log') {
        // The case is only meaningful when the batch spans more than `step` chunks.
        expect(await stagedRowsOfCleanLoad(kind, strategy)).toBeGreaterThan(step * EVENTS_PER_STEP);
      }

      const injector = failOnceAt(phase, { step });
      const failed = await harness.load(injector);
      expect(injector.fired).toBe(true);
      expect(failed.error).toContain(`failed at ${phase}`);
      expect(failed.report.phases.filter((e) => e.status === 'failed').map((e) => e.phase)).toEqual([phase]);

      const afterFailure = await harness.read();
      if (phase !== 'cleanup') {
        // Not committed: the state store still holds the base cursor and was never written.
        expect(harness.stateStore.commits).toEqual([]);
        expect(await harness.stateStore.load(PIPELINE)).toEqual(baseCursor);
        expect(failed.report.committedState).toBeUndefined();
        expect(okPhases(failed.report, 'commit_state')).toEqual([]);
        expect(failed.report.batches.every((batch) => !batch.committed)).toBe(true);
      } else {
        // cleanup comes after the commit: the state has advanced and the data is already complete.
        expect(harness.stateStore.commits).toHaveLength(1);
        expect(await harness.stateStore.load(PIPELINE)).toEqual(failed.report.committedState);
        expect(await harness.stateStore.load(PIPELINE)).not.toEqual(baseCursor);
        const judged = await harness.judge(failed.report);
        expect(failedChecks(judged.judgement.results)).toEqual([]);
      }

      // What the failed attempt left in the target.
      let emittedBeforeFault = 0;
      if (kind === 'relational') {
        if (phase !== 'cleanup') expect(tableSink(harness).stagingTables()).toEqual([]);
        if (phase !== 'cleanup') {
          // finalize, reconcile and the state commit share one transaction: a fault before the
          // commit rolls the target back to what it was.
          expect(checksumOf(afterFailure)).toEqual(checksumOf(before));
        } else {
          // cleanup runs after the transaction committed: the target holds the load.
          const judged = await harness.judge(undefined);
          expect(judged.judgement.actual?.checksum).toBe(judged.judgement.expected.checksum);
        }
      } else {
        const log = eventLog(harness).log();
        emittedBeforeFault = log.length - logBefore.length;
        expect(log.slice(0, logBefore.length)).toEqual(logBefore);
        if (step !== undefined) {
          // Not transactional: the chunks before the failing step are already in the log.
          expect(emittedBeforeFault).toBe(step * EVENTS_PER_STEP);
        } else if (BEFORE_WRITE.includes(phase)) {
          expect(emittedBeforeFault).toBe(0);
          expect(checksumOf(afterFailure)).toEqual(checksumOf(before));
        } else {
          expect(emittedBeforeFault).toBeGreaterThan(0);
        }
      }

      const rerun = await harness.load();
      expect(rerun.error).toBeNull();
      const { actual, judgement } = await harness.judge(rerun.report);
      expect(judgement.actual?.checksum).toBe(judgement.expected.checksum);
      if (phase === 'cleanup' && DELTA_READERS.includes(strategy)) {
        // The rerun reads from the advanced state: nothing new to extract.
        expect(rerun.report.extractedRows).toBe(0);
      }

      if (kind === 'relational') {
        expect(failedChecks(judgement.results)).toEqual([]);
        const sink = tableSink(harness);
        const rerunStaging = rerun.report.batches.map((batch) => `stg_${rerun.report.loadId.slice(1, 13)}_${batch.id}`);
        expect(sink.stagingTables().filter((name) => rerunStaging.includes(name))).toEqual([]);
        if (phase !== 'cleanup') expect(sink.stagingTables()).toEqual([]);
        return;
      }
      const expectedEvents = harness.expectation.eventCount;
      if (expectedEvents === undefined) throw new Error('event-log oracles state an event count');
      if (emittedBeforeFault === 0) {
        // Nothing was emitted before the fault: the log is exactly the oracle's.
        expect(failedChecks(judgement.results)).toEqual([]);
        expect(actual.eventCount).toBe(expectedEvents);
        return;
      }
      if (phase === 'cleanup') {
        // The state advanced, so the rerun is a second load: snapshot strategies (full_refresh,
        // replace) emit their snapshot again under new ids. Everything but the event count holds.
        expect(failedChecks(judgement.results).filter((name) => name !== QUALITY_CHECKS.eventCount)).toEqual([]);
        expect(actual.eventCount).toBeGreaterThanOrEqual(expectedEvents);
      } else {
        // At least once: events emitted before the fault are emitted again under the same ids, so
        // every check holds: the event count counts distinct events.
        expect(failedChecks(judgement.results)).toEqual([]);
        expect(actual.eventCount).toBe(expectedEvents);
      }
      if (phase !== 'cleanup') {
        // The rerun reuses the failed load's id, so a consumer that drops repeated event ids sees
        // exactly the oracle's log (a rerun after the commit is a new load with new ids).
        expect(dedupeById(eventLog(harness).log())).toHaveLength(expectedEvents);
      }
    });
  }
});

/** The default fixture's delta spans two partitions; a wider one (and 1-day chunks) gives three chunks. */
function multiChunkFixture(): SourceFixture {
  const fixture = buildSourceFixture('postgres', { rows: 2_000, changeRatio: 0.5, deleteRatio: 0.1 });
  return { ...fixture, backfill: { ...fixture.backfill, chunkSize: 1 } };
}

describe('backfill resumes after a failed chunk', () => {
  test('the first chunk stays committed and the rerun loads only the remaining chunks', async () => {
    const fixture = multiChunkFixture();
    const harness = harnessFor('relational', 'backfill', fixture);
    const partitions = fixture.backfill;
    expect(partitions.from).not.toBe(partitions.to);

    const injector = failOnceAt('finalize', { batchIndex: 1 });
    const failed = await harness.load(injector);
    expect(injector.fired).toBe(true);
    expect(failed.error).toContain('failed at finalize');
    const [first, second, ...rest] = failed.report.batches;
    if (!first || !second) throw new Error('expected two batches in the failed attempt');
    expect(rest).toEqual([]);
    expect(first.committed).toBe(true);
    expect(second.committed).toBe(false);
    expect(harness.stateStore.commits).toHaveLength(1);
    const stored = await harness.stateStore.load(PIPELINE);
    expect(stored.completedChunks).toEqual([first.id]);
    expect(stored.watermark).toBe(harness.source.baseCursor().watermark);
    expect(tableSink(harness).stagingTables()).toEqual([]);

    // The first chunk's partition already holds the source rows; the later ones are as before.
    const firstDay = `${first.id.slice(6, 10)}-${first.id.slice(10, 12)}-${first.id.slice(12, 14)}`;
    expect(firstDay).toBe(partitions.from);
    const dayOf = (row: readonly unknown[]) => String(row[1]);
    const target = (await harness.read()).rows;
    expect(tableChecksum(target.filter((row) => dayOf(row) === firstDay)))
      .toEqual(tableChecksum(fixture.after.filter((row) => dayOf(row) === firstDay)));
    expect(tableChecksum(target.filter((row) => dayOf(row) > firstDay)))
      .toEqual(tableChecksum(fixture.before.filter((row) => dayOf(row) > firstDay)));

    const rerun = await harness.load();
    expect(rerun.error).toBeNull();
    const rerunIds = rerun.report.batches.map((batch) => batch.id);
    expect(rerunIds).not.toContain(first.id);
    expect(rerunIds[0]).toBe(second.id);
    expect(rerunIds.length).toBeGreaterThanOrEqual(2);
    expect(rerun.report.extractedRows).toBe(fixture.after.filter((row) => dayOf(row) > firstDay && dayOf(row) <= partitions.to).length);
    expect((await harness.stateStore.load(PIPELINE)).completedChunks).toEqual([first.id, ...rerunIds]);
    const { judgement } = await harness.judge(rerun.report);
    expect(failedChecks(judgement.results)).toEqual([]);
    expect(judgement.actual?.checksum).toBe(judgement.expected.checksum);

    // Every chunk is done: one more run loads nothing and commits nothing.
    const commits = harness.stateStore.commits.length;
    const idle = await harness.load();
    expect(idle.report.batches).toEqual([]);
    expect(harness.stateStore.commits).toHaveLength(commits);
  });

  test('batchIndex counts batches from 0: a fault at the first batch leaves nothing committed', async () => {
    const harness = harnessFor('relational', 'backfill', multiChunkFixture());
    const injector = failOnceAt('reconcile', { batchIndex: 0 });
    const failed = await harness.load(injector);
    expect(injector.fired).toBe(true);
    expect(failed.report.batches).toHaveLength(1);
    expect(harness.stateStore.commits).toEqual([]);
  });
});

describe('reconciliation failures stop the load before the state commit', () => {
  /** incremental_merge with a wrong expectation: it claims an upserted key must be absent. */
  const wrongExpectation: LoadStrategy = {
    ...DEFAULT_STRATEGIES.get('incremental_merge'),
    async plan(context) {
      const plan: LoadPlan = await DEFAULT_STRATEGIES.get('incremental_merge').plan(context);
      return {
        ...plan,
        batches: plan.batches.map((batch) => {
          const present = batch.reconcile.find((check): check is Extract<ReconcileCheck, { kind: 'keys_present' }> => check.kind === 'keys_present');
          const key: KeyValue | undefined = present?.keys[0];
          if (key === undefined) throw new Error('no upserted key to misreport');
          return { ...batch, reconcile: [...batch.reconcile, { kind: 'keys_absent', keys: [key] }] };
        }),
      };
    },
  };

  for (const kind of ['relational', 'event_log'] as const) {
    test(`${kind}: a strategy whose reconcile expectation is wrong fails at reconcile, commits nothing, and the real strategy then converges`, async () => {
      const harness = new MemoryLoadHarness(FIXTURE, PIPELINE, CAPABILITIES, kind, wrongExpectation);
      const failed = await harness.load();
      expect(failed.error).toContain('failed at reconcile');
      expect(failed.error).toContain('keys_absent expected 0, observed 1');
      const batch = failed.report.batches[0];
      expect(batch?.committed).toBe(false);
      expect(harness.stateStore.commits).toEqual([]);
      expect(await harness.stateStore.load(PIPELINE)).toEqual(harness.source.baseCursor());
      expect(failed.report.phases.map((e) => `${e.phase}=${e.status}`)).toEqual([
        'prepare=ok', 'stage=ok', 'validate_staging=ok', 'finalize=ok', 'reconcile=failed', 'cleanup=ok',
      ]);

      // Same connectors and state store, real strategy: the rerun converges.
      const rerun = await runLoad({
        pipeline: PIPELINE, source: harness.source, sink: harness.sink, stateStore: harness.stateStore,
        strategy: DEFAULT_STRATEGIES.get('incremental_merge'),
      });
      expect(await harness.stateStore.load(PIPELINE)).toEqual(rerun.committedState);
      const { judgement } = await harness.judge(rerun);
      expect(judgement.actual?.checksum).toBe(judgement.expected.checksum);
      // The event log got the whole batch twice (at least once) under the same event ids: readers,
      // and the event count, see each event once.
      expect(failedChecks(judgement.results)).toEqual([]);
    });
  }

  test('a sink whose reconcile reports a mismatch: LoadFailedError at reconcile with a ReconciliationError cause', async () => {
    const inner = new MemoryTableSink(targetBeforeRows(FIXTURE, 'plain'));
    const sink = new MismatchingSink(inner);
    const base = memorySourceFor(FIXTURE, CAPABILITIES).baseCursor();
    const stateStore = new MemoryStateStore({ [PIPELINE]: base });
    const acknowledged: LoadState[] = [];
    const source = new AcknowledgingSource(memorySourceFor(FIXTURE, CAPABILITIES), [], acknowledged);
    const error = await runLoad({
      pipeline: PIPELINE, source, sink, stateStore, strategy: DEFAULT_STRATEGIES.get('full_refresh'),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LoadFailedError);
    if (!(error instanceof LoadFailedError)) return;
    expect(error.phase).toBe('reconcile');
    expect(error.cause).toBeInstanceOf(ReconciliationError);
    expect(error.report.batches[0]?.committed).toBe(false);
    expect(error.report.committedState).toBeUndefined();
    expect(stateStore.commits).toEqual([]);
    expect(await stateStore.load(PIPELINE)).toEqual(base);
    expect(acknowledged).toEqual([]);
    expect(inner.stagingTables()).toEqual([]);
  });
});

describe('staging and error reporting around failures', () => {
  for (const phase of ['stage', 'validate_staging', 'finalize', 'reconcile', 'commit_state'] as const) {
    test(`staging is dropped after a fault at ${phase}, for every batch that was staged`, async () => {
      const harness = harnessFor('relational', 'backfill', multiChunkFixture());
      const failed = await harness.load(failOnceAt(phase, { batchIndex: 1 }));
      expect(failed.error).toContain(`failed at ${phase}`);
      // Both staged batches were cleaned: the committed first one and the failed second one.
      expect(failed.report.phases.filter((e) => e.phase === 'cleanup').map((e) => e.status)).toEqual(['ok', 'ok']);
      expect(tableSink(harness).stagingTables()).toEqual([]);
    });
  }

  test('a cleanup that throws after another failure does not hide the original fault', async () => {
    const inner = new MemoryTableSink(targetBeforeRows(FIXTURE, 'plain'));
    const sink = new FailingCleanupSink(inner);
    const stateStore = new MemoryStateStore({ [PIPELINE]: memorySourceFor(FIXTURE, CAPABILITIES).baseCursor() });
    const error = await runLoad({
      pipeline: PIPELINE, source: memorySourceFor(FIXTURE, CAPABILITIES), sink, stateStore,
      strategy: DEFAULT_STRATEGIES.get('incremental_merge'), faults: failOnceAt('finalize'),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LoadFailedError);
    if (!(error instanceof LoadFailedError)) return;
    expect(error.phase).toBe('finalize');
    expect(error.cause).toBeInstanceOf(InjectedFault);
    expect(stateStore.commits).toEqual([]);
  });

  test('a cleanup that throws after a successful commit fails the load at cleanup with the state committed', async () => {
    const sink = new FailingCleanupSink(new MemoryTableSink(targetBeforeRows(FIXTURE, 'plain')));
    const stateStore = new MemoryStateStore({ [PIPELINE]: memorySourceFor(FIXTURE, CAPABILITIES).baseCursor() });
    const error = await runLoad({
      pipeline: PIPELINE, source: memorySourceFor(FIXTURE, CAPABILITIES), sink, stateStore,
      strategy: DEFAULT_STRATEGIES.get('incremental_merge'),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LoadFailedError);
    if (!(error instanceof LoadFailedError)) return;
    expect(error.phase).toBe('cleanup');
    expect(stateStore.commits).toHaveLength(1);
    expect(error.report.committedState).toEqual(stateStore.commits[0]?.state);
  });

  test('a state store whose commit throws: nothing acknowledged to the source, failure at commit_state', async () => {
    const calls: string[] = [];
    const acknowledged: LoadState[] = [];
    const stateStore: StateStore = {
      load: async () => memorySourceFor(FIXTURE, CAPABILITIES).baseCursor(),
      commit: async () => { throw new Error('state table is read-only'); },
    };
    const error = await runLoad({
      pipeline: PIPELINE, source: new AcknowledgingSource(memorySourceFor(FIXTURE, CAPABILITIES), calls, acknowledged),
      sink: new MemoryTableSink(targetBeforeRows(FIXTURE, 'plain')), stateStore,
      strategy: DEFAULT_STRATEGIES.get('cdc'),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(LoadFailedError);
    if (!(error instanceof LoadFailedError)) return;
    expect(error.phase).toBe('commit_state');
    expect(error.report.committedState).toBeUndefined();
    expect(acknowledged).toEqual([]);
  });

  test('the source is acknowledged once, after the commit, with the committed state', async () => {
    const calls: string[] = [];
    const acknowledged: LoadState[] = [];
    const stateStore = new MemoryStateStore();
    const report = await runLoad({
      pipeline: PIPELINE, source: new AcknowledgingSource(memorySourceFor(FIXTURE, CAPABILITIES), calls, acknowledged),
      sink: new MemoryTableSink(targetBeforeRows(FIXTURE, 'plain')), stateStore,
      strategy: DEFAULT_STRATEGIES.get('cdc'),
    });
    expect(acknowledged).toEqual([report.committedState]);
    expect(report.committedState?.lsn).toBe(FIXTURE.changes.at(-1)?.position);
  });

  test('the oracle used by this suite is not trivially satisfied: the target before the load differs from it', async () => {
    const harness = harnessFor('relational', 'incremental_merge');
    const { judgement } = await harness.judge(undefined);
    expect(judgement.actual?.checksum).not.toBe(judgement.expected.checksum);
    expect(expectationFor('incremental_merge', 'relational', FIXTURE).absentKeys.length).toBe(100);
  });
});

/** Delegates to a sink and records each call. */
class RecordingSink implements Sink {
  readonly family: string;
  readonly capabilities: SinkCapabilities;

  constructor(private readonly inner: Sink, private readonly calls: string[]) {
    this.family = inner.family;
    this.capabilities = inner.capabilities;
  }

  prepare(target: TargetSpec): Promise<void> { this.calls.push('sink.prepare'); return this.inner.prepare(target); }
  currentHashes(target: TargetSpec): Promise<Map<KeyValue, string>> { return this.inner.currentHashes(target); }
  currentKeys(target: TargetSpec): Promise<Set<KeyValue>> { return this.inner.currentKeys(target); }
  stage(batch: StagedBatch): Promise<void> { this.calls.push('sink.stage'); return this.inner.stage(batch); }
  validateStaging(batch: StagedBatch): Promise<StagingReport> {
    this.calls.push('sink.validateStaging');
    return this.inner.validateStaging(batch);
  }

  finalize(target: TargetSpec, batch: StagedBatch, operations: readonly PlanOperation[], onStep: StepHook): Promise<void> {
    this.calls.push('sink.finalize');
    return this.inner.finalize(target, batch, operations, onStep);
  }

  reconcile(target: TargetSpec, check: ReconcileCheck): Promise<ReconcileResult> {
    this.calls.push(`sink.reconcile:${check.kind}`);
    return this.inner.reconcile(target, check);
  }

  cleanup(batch: StagedBatch): Promise<void> { this.calls.push('sink.cleanup'); return this.inner.cleanup(batch); }
  read(target: TargetSpec): Promise<TargetContent> { return this.inner.read(target); }
}

/** A sink whose reconciliation always observes one row too many. */
class MismatchingSink extends RecordingSink {
  constructor(inner: Sink) {
    super(inner, []);
  }

  override async reconcile(target: TargetSpec, check: ReconcileCheck): Promise<ReconcileResult> {
    const result = await super.reconcile(target, check);
    return { ...result, observed: result.observed + 1, passed: false };
  }
}

/** A sink whose cleanup (drop staging) always fails. */
class FailingCleanupSink extends RecordingSink {
  constructor(inner: Sink) {
    super(inner, []);
  }

  override async cleanup(): Promise<void> {
    throw new Error('cannot drop staging: connection lost');
  }
}

class RecordingStateStore extends MemoryStateStore {
  constructor(base: LoadState, private readonly calls: string[]) {
    super({ [PIPELINE]: base });
  }

  override load(pipeline: string): Promise<LoadState> { this.calls.push('state.load'); return super.load(pipeline); }
  override commit(pipeline: string, state: LoadState): Promise<void> { this.calls.push('state.commit'); return super.commit(pipeline, state); }
}

/** Delegates reads to a source and records acknowledgements (Kafka offsets, replication slots). */
class AcknowledgingSource implements Source {
  readonly family: string;
  readonly capabilities: Source['capabilities'];
  readonly schema: Source['schema'];

  constructor(private readonly inner: Source, private readonly calls: string[], private readonly acknowledged: LoadState[] = []) {
    this.family = inner.family;
    this.capabilities = inner.capabilities;
    this.schema = inner.schema;
  }

  readSnapshot(...args: Parameters<Source['readSnapshot']>) { this.calls.push('source.readSnapshot'); return this.inner.readSnapshot(...args); }
  readChanges(state: LoadState) { this.calls.push('source.readChanges'); return this.inner.readChanges(state); }
  readXmin(state: LoadState) { this.calls.push('source.readXmin'); return this.inner.readXmin(state); }
  readCdc(state: LoadState) { this.calls.push('source.readCdc'); return this.inner.readCdc(state); }
  async acknowledge(state: LoadState): Promise<void> {
    this.calls.push('source.acknowledge');
    this.acknowledged.push(state);
  }
}

describe('failOnceAt', () => {
  test('counts batches from 0: the prepare point (batch "plan") is not a batch', () => {
    const injector = failOnceAt('stage');
    injector.check({ phase: 'prepare', batch: 'plan' });
    expect(() => injector.check({ phase: 'stage', batch: 'chunk_a' })).toThrow(InjectedFault);
    expect(injector.fired).toBe(true);
    // Once fired, every later point passes (a rerun with the same injector proceeds).
    expect(() => injector.check({ phase: 'stage', batch: 'chunk_a' })).not.toThrow();
  });

  test('fails at prepare, whatever batchIndex says', () => {
    expect(() => failOnceAt('prepare').check({ phase: 'prepare', batch: 'plan' })).toThrow(InjectedFault);
    expect(() => failOnceAt('prepare', { batchIndex: 2 }).check({ phase: 'prepare', batch: 'plan' })).toThrow(InjectedFault);
  });

  test('batchIndex and step select one point', () => {
    const injector = failOnceAt('finalize', { batchIndex: 1, step: 2 });
    const points = [
      { phase: 'prepare', batch: 'plan' }, { phase: 'finalize', batch: 'a' }, { phase: 'finalize', batch: 'a', step: 2 },
      { phase: 'finalize', batch: 'b' }, { phase: 'finalize', batch: 'b', step: 0 }, { phase: 'finalize', batch: 'b', step: 1 },
    ] as const;
    for (const point of points) expect(() => injector.check(point)).not.toThrow();
    expect(injector.fired).toBe(false);
    let thrown: unknown;
    try {
      injector.check({ phase: 'finalize', batch: 'b', step: 2 });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InjectedFault);
    expect(thrown instanceof InjectedFault ? thrown.point : undefined).toEqual({ phase: 'finalize', batch: 'b', step: 2 });
  });
});
