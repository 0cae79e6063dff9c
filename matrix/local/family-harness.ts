import type { Sink, Source } from '../../engine/connectors/index.ts';
import type { TargetSpec } from '../../engine/plan/index.ts';
import type { LoadState, StateStore } from '../../engine/state/index.ts';
import type { SourceFixture } from '../../fixtures/source-fixture.ts';
import type { ProvidedService } from '../../fixtures/services/provider.ts';

/** A source built from a fixture on a real service, and the cursor its base load stands for. */
export interface SeededSource {
  readonly source: Source;
  /** The state the previous load committed: taken after the base rows, before the delta. */
  readonly baseCursor: LoadState;
  /** Frees what the case holds on the service (replication slots, schemas, topics); idempotent. */
  release(): Promise<void>;
}

/** A sink whose target holds the before-state, and the store the pipeline's state lives in. */
export interface SeededSink {
  readonly sink: Sink;
  /** The sink's own state table when it has one, otherwise a store of the family's choosing. */
  readonly stateStore: StateStore;
  /** Frees what the case holds on the service (schemas, topics, clients); idempotent. */
  release(): Promise<void>;
}

/**
 * How a source family runs in the local modes: it builds, inside namespace `ns` (a schema, database,
 * topic prefix or mock API of its own per case), the fixture's base rows, takes the base cursor,
 * then applies the delta as real writes in commit order.
 */
export interface SourceHarness {
  readonly family: string;
  /** Services the family needs; the REST mock runs in-process and needs none. */
  readonly services: readonly ProvidedService[];
  seedSource(fixture: SourceFixture, ns: string): Promise<SeededSource>;
  /** Releases pools and clients (not the services: the run owns those). */
  close(): Promise<void>;
}

/**
 * How a sink family runs in the local modes: a sink whose target `target` (in namespace `ns`)
 * holds the before-state — the fixture's base rows in the target's shape, or one insert event per
 * base row for an event log — with `baseCursor` committed for `pipeline` in its state store.
 */
export interface SinkHarness {
  readonly family: string;
  readonly services: readonly ProvidedService[];
  seedSink(fixture: SourceFixture, target: TargetSpec, ns: string, pipeline: string, baseCursor: LoadState): Promise<SeededSink>;
  close(): Promise<void>;
}
