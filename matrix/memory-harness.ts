import type { Sink, SourceCapabilities, TargetContent } from '../engine/connectors/index.ts';
import { MemoryEventLogSink, MemoryTableSink } from '../engine/connectors/index.ts';
import type { MemorySource } from '../engine/connectors/index.ts';
import type { FaultInjector, LoadReport, LoadRequest } from '../engine/lifecycle/index.ts';
import { LoadFailedError, runLoad } from '../engine/lifecycle/index.ts';
import type { TargetSpec } from '../engine/plan/index.ts';
import { MemoryStateStore } from '../engine/state/index.ts';
import type { LoadStrategy, SinkKind } from '../engine/strategies/index.ts';
import type { OracleExpectation } from '../fixtures/oracle.ts';
import { expectationFor } from '../fixtures/oracle.ts';
import { memorySourceFor, targetBeforeEvents, targetBeforeRows } from '../fixtures/scenario.ts';
import type { SourceFixture } from '../fixtures/source-fixture.ts';
import type { Judgement } from './quality-checks.ts';
import { evaluateQualityChecks } from './quality-checks.ts';

export interface LoadAttempt {
  readonly report: LoadReport;
  /** The failure message when the load stopped, null when it completed. */
  readonly error: string | null;
}

/** Runs a load; a lifecycle failure is returned (with the partial report), not thrown. */
export async function attemptLoad(request: LoadRequest): Promise<LoadAttempt> {
  try {
    return { report: await runLoad(request), error: null };
  } catch (error) {
    if (!(error instanceof LoadFailedError)) throw error;
    return { report: error.report, error: error.message };
  }
}

/**
 * One load of a fixture's delta through the engine with in-memory connectors: a memory source
 * holding the fixture, a table or event-log sink holding the target as the previous load left it,
 * and a state store at the base cursor. `load` may be called again (a rerun after a failure);
 * `judge` reads the target back and evaluates it against the oracle.
 */
export class MemoryLoadHarness {
  readonly source: MemorySource;
  readonly sink: Sink;
  /** Committed pipeline state (a table sink writes it inside its transaction). */
  readonly stateStore: MemoryStateStore;
  readonly target: TargetSpec;
  readonly expectation: OracleExpectation;

  constructor(
    readonly fixture: SourceFixture,
    readonly pipeline: string,
    capabilities: SourceCapabilities,
    readonly sinkKind: SinkKind,
    readonly strategy: LoadStrategy,
  ) {
    this.source = memorySourceFor(fixture, capabilities);
    this.stateStore = new MemoryStateStore({ [pipeline]: this.source.baseCursor() });
    // A table sink keeps the state table itself (one transaction with the target); a log does not.
    this.sink = sinkKind === 'relational'
      ? new MemoryTableSink(targetBeforeRows(fixture, strategy.targetShape(sinkKind)), this.stateStore)
      : new MemoryEventLogSink(targetBeforeEvents(fixture));
    this.target = { name: pipeline, dataSchema: fixture.schema, shape: strategy.targetShape(sinkKind) };
    this.expectation = expectationFor(strategy.name, sinkKind, fixture);
  }

  /** Runs the load; a lifecycle failure is returned (with the partial report), not thrown. */
  load(faults?: FaultInjector): Promise<LoadAttempt> {
    return attemptLoad({
      pipeline: this.pipeline, source: this.source, sink: this.sink, strategy: this.strategy,
      stateStore: this.sink.stateStore ?? this.stateStore, faults, options: { window: this.fixture.window, backfill: this.fixture.backfill },
    });
  }

  /** The target as the sink holds it now. */
  read(): Promise<TargetContent> {
    return this.sink.read(this.target);
  }

  /** Judges the current target against the oracle; `load` is the attempt whose state evidence counts. */
  async judge(load: LoadReport | undefined): Promise<{ actual: TargetContent; judgement: Judgement }> {
    const actual = await this.read();
    const storedState = await this.stateStore.load(this.pipeline);
    const judgement = evaluateQualityChecks({ fixture: this.fixture, expectation: this.expectation, actual, load, storedState });
    return { actual, judgement };
  }
}
