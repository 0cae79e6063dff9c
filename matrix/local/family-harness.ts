import type { Sink, Source } from '../../engine/connectors/index.ts';
import type { TargetSpec } from '../../engine/plan/index.ts';
import { targetSchema } from '../../engine/plan/index.ts';
import type { ColumnDef, Row } from '../../engine/schema/index.ts';
import type { LoadNames, QualifiedName } from '../../engine/sql/names.ts';
import type { LoadState, StateStore } from '../../engine/state/index.ts';
import { targetBeforeRows } from '../../fixtures/scenario.ts';
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

/** Runs `release` at most once; later calls wait for the first (a case's `release` is idempotent). */
export function once(release: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= release());
}

/** Runs `seed`, or releases what it had taken (ignoring a release failure) and rethrows its error. */
async function releasingOnFailure<T>(release: () => Promise<void>, seed: () => Promise<T>): Promise<T> {
  try {
    return await seed();
  } catch (error) {
    await release().catch(() => undefined);
    throw error;
  }
}

/**
 * A seeded source from a family's seeding function: `seed` gets the `afterBase` hook that takes the
 * base cursor between the base rows and the delta. `release` (make it idempotent with `once`) runs
 * when seeding fails, too.
 */
export function seededSource<Seeding extends { baseCursor(): Promise<LoadState> }>(
  release: () => Promise<void>,
  seed: (afterBase: (seeding: Seeding) => Promise<void>) => Promise<Source>,
): Promise<SeededSource> {
  return releasingOnFailure(release, async () => {
    let baseCursor: LoadState = {};
    const source = await seed(async (seeding) => { baseCursor = await seeding.baseCursor(); });
    return { source, baseCursor, release };
  });
}

/** A table sink with its own state table (every SQL sink). */
export interface TableSinkWithState extends Sink {
  readonly stateStore: StateStore;
  names(targetName: string): LoadNames;
}

/**
 * A seeded table sink: prepares `target`, fills it with the fixture's target-before rows through
 * `writeRows` (the family's fast path into the target's qualified name) and commits `baseCursor` for
 * `pipeline` in the sink's state table. `release` (make it idempotent with `once`) runs when
 * seeding fails, too.
 */
export function seededTableSink(
  sink: TableSinkWithState, release: () => Promise<void>,
  seed: { readonly fixture: SourceFixture; readonly target: TargetSpec; readonly pipeline: string; readonly baseCursor: LoadState },
  writeRows: (into: QualifiedName, columns: readonly ColumnDef[], rows: readonly Row[]) => Promise<unknown>,
): Promise<SeededSink> {
  const { fixture, target, pipeline, baseCursor } = seed;
  return releasingOnFailure(release, async () => {
    await sink.prepare(target);
    await writeRows(sink.names(target.name).target, targetSchema(target).columns, targetBeforeRows(fixture, target.shape));
    await sink.stateStore.commit(pipeline, baseCursor);
    return { sink, stateStore: sink.stateStore, release };
  });
}
