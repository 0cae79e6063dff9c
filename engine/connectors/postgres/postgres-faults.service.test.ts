import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TargetSpec } from '../../plan/index.ts';
import type { FaultInjector, LifecyclePhase, LoadReport } from '../../lifecycle/index.ts';
import { failOnceAt, LoadFailedError, runLoad } from '../../lifecycle/index.ts';
import type { LoadState } from '../../state/index.ts';
import type { StrategyName } from '../../strategies/index.ts';
import { DEFAULT_STRATEGIES } from '../../strategies/index.ts';
import type { SqlStatement } from '../../sql/index.ts';
import { sqlText } from '../../sql/index.ts';
import { tableChecksum } from '../../../fixtures/checksum.ts';
import { failedQualityChecks } from '../../../fixtures/connector-test-support.ts';
import { memorySourceFor } from '../../../fixtures/scenario.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import type { PostgresConnection } from '../../../fixtures/services/postgres-embedded.ts';
import { embeddedPostgresInstalled, loadPg, loadPgCopyFrom } from '../../../fixtures/services/postgres-embedded.ts';
import { openPostgresDriver, POSTGRES_PROVIDERS } from '../../../fixtures/services/postgres-providers.ts';
import type { ServiceHandle } from '../../../fixtures/services/provider.ts';
import { sourceFamily } from '../../../matrix/families.ts';
import { postgresSinkHarness } from '../../../matrix/local/families/postgres.ts';
import type { SinkHarness } from '../../../matrix/local/family-harness.ts';
import type { PgCopyFromShape, PgPoolShape } from './postgres-driver.ts';
import { PostgresDriver } from './postgres-driver.ts';
import { PostgresSink } from './postgres-sink.ts';

/**
 * Faults on a real PostgreSQL (embedded 18): a load into a seeded sink fails after staging, between
 * two statements of finalize, before the state commit, or because the sink transaction's connection
 * is terminated by the server. Each time the load fails, the committed state is still the base
 * cursor, the target still has its before-state checksum, and a rerun on a fresh sink converges.
 */

const installed = embeddedPostgresInstalled();
const FIXTURE = buildSourceFixture('postgres', { rows: 400, changeRatio: 0.2, deleteRatio: 0.05 });
const CAPABILITIES = sourceFamily('postgres').capabilities;

let handle: ServiceHandle<PostgresConnection> | undefined;
let harness: SinkHarness;
const releases: (() => Promise<void>)[] = [];
const drivers: PostgresDriver[] = [];

function connection(): PostgresConnection {
  if (!handle) throw new Error('PostgreSQL is not running');
  return handle.connection;
}

/**
 * A driver whose transaction connection can be dropped by the server: `dropConnection` terminates
 * the backend holding the open transaction from another connection. A fault injector's `check` is
 * synchronous, so the termination is awaited by the driver's next statement, which then runs on the
 * dead connection and fails with a real connection error.
 */
class DroppableDriver extends PostgresDriver {
  private backendPid?: string;
  private termination?: Promise<void>;

  constructor(pool: PgPoolShape, copyFrom: PgCopyFromShape, private readonly killer: PostgresDriver) {
    super(pool, { copyFrom });
  }

  override async begin(statement?: SqlStatement): Promise<void> {
    await super.begin(statement);
    this.backendPid = String(await this.scalar(sqlText('SELECT pg_backend_pid()')));
  }

  dropConnection(): void {
    const pid = this.backendPid;
    if (pid === undefined) throw new Error('no transaction to drop');
    // pg_terminate_backend with a timeout waits until the backend has exited.
    this.termination = this.killer.query({ sql: 'SELECT pg_terminate_backend($1::int, 10000)', params: [pid] }).then(() => undefined);
  }

  override async query(statement: SqlStatement): Promise<readonly (readonly unknown[])[]> {
    const termination = this.termination;
    this.termination = undefined;
    await termination;
    return super.query(statement);
  }
}

/** A target seeded by the sink harness in schema `ns`, and how to load, inspect and judge it. */
async function seededCase(strategyName: StrategyName, ns: string) {
  const strategy = DEFAULT_STRATEGIES.get(strategyName);
  const source = memorySourceFor(FIXTURE, CAPABILITIES);
  const baseCursor: LoadState = source.baseCursor();
  const pipeline = `p_${ns}`;
  const target: TargetSpec = { name: 'orders', dataSchema: FIXTURE.schema, shape: strategy.targetShape('relational') };
  const seeded = await harness.seedSink(FIXTURE, target, ns, pipeline, baseCursor);
  releases.push(seeded.release);
  const load = (sink: PostgresSink, faults?: FaultInjector): Promise<LoadReport> => runLoad({
    pipeline, source, sink, strategy, stateStore: sink.stateStore, targetName: target.name, faults,
    options: { window: FIXTURE.window, backfill: FIXTURE.backfill },
  });
  /** A sink on a fresh pool of its own, loading into the same schema. */
  const freshSink = async (driver?: PostgresDriver) => {
    const created = driver ?? await openPostgresDriver(connection());
    drivers.push(created);
    return new PostgresSink(created, { schema: ns });
  };
  const checksum = async (sink: PostgresSink) => tableChecksum((await sink.read(target)).rows);
  const failedChecks = (sink: PostgresSink, report: LoadReport) =>
    failedQualityChecks({ fixture: FIXTURE, strategy: strategyName, sinkKind: 'relational', sink, target, stateStore: sink.stateStore, pipeline }, report);
  return { pipeline, baseCursor, load, freshSink, checksum, failedChecks, before: await checksum(await freshSink()) };
}

/**
 * Runs `attempt`, expects it to fail as a load at `phase`, then checks state and target and that a
 * rerun converges. Returns the failure.
 */
async function expectFailureThenConvergence(
  seeded: Awaited<ReturnType<typeof seededCase>>, phase: LifecyclePhase, attempt: () => Promise<LoadReport>,
): Promise<LoadFailedError> {
  const error = await attempt().then(() => null, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(LoadFailedError);
  expect((error as LoadFailedError).phase).toBe(phase);
  const inspector = await seeded.freshSink();
  expect(await inspector.stateStore.load(seeded.pipeline)).toEqual(seeded.baseCursor);
  expect(await seeded.checksum(inspector)).toEqual(seeded.before);
  const rerunSink = await seeded.freshSink();
  const rerun = await seeded.load(rerunSink);
  expect(rerun.batches.every((batch) => batch.committed)).toBe(true);
  expect(await seeded.failedChecks(rerunSink, rerun)).toEqual([]);
  return error as LoadFailedError;
}

const INJECTED: readonly { name: string; strategy: StrategyName; phase: LifecyclePhase; step?: number }[] = [
  { name: 'after staging (validate_staging)', strategy: 'incremental_merge', phase: 'validate_staging' },
  { name: 'mid-finalize of a merge, between its delete and its upsert', strategy: 'incremental_merge', phase: 'finalize', step: 1 },
  { name: 'mid-finalize of scd2, between its expire and its insert', strategy: 'scd2', phase: 'finalize', step: 1 },
  { name: 'before the state commit (commit_state)', strategy: 'incremental_merge', phase: 'commit_state' },
];

describe.skipIf(!installed)(
  installed ? 'PostgresSink faults on embedded PostgreSQL 18' : 'PostgresSink faults on embedded PostgreSQL — skipped: embedded PostgreSQL not installed: run pnpm services:install',
  () => {
    beforeAll(async () => {
      const embedded = POSTGRES_PROVIDERS.find((provider) => provider.kind === 'embedded');
      if (!embedded) throw new Error('no embedded PostgreSQL provider');
      handle = await embedded.start({});
      harness = postgresSinkHarness(handle);
    }, 120_000);

    afterAll(async () => {
      for (const release of releases) await release();
      for (const driver of drivers) await driver.close();
      await harness.close();
      await handle?.stop();
    }, 60_000);

    test.each(INJECTED.map((fault, index) => ({ ...fault, ns: `fault_${index}` })))('a fault $name fails the load; state and target are unchanged; a rerun converges', async (fault) => {
      const seeded = await seededCase(fault.strategy, fault.ns);
      const faults = failOnceAt(fault.phase, fault.step === undefined ? {} : { step: fault.step });
      const sink = await seeded.freshSink();
      await expectFailureThenConvergence(seeded, fault.phase, () => seeded.load(sink, faults));
      expect(faults.fired).toBe(true);
    }, 60_000);

    test('the sink transaction\'s connection terminated mid-finalize fails the load; a rerun on a fresh pool converges', async () => {
      const seeded = await seededCase('scd2', 'fault_dropped');
      const [pg, copyFrom] = await Promise.all([loadPg(), loadPgCopyFrom()]);
      const killer = await openPostgresDriver(connection(), { max: 1 });
      drivers.push(killer);
      const driver = new DroppableDriver(new pg.Pool({ ...connection(), max: 2 }), copyFrom, killer);
      const sink = await seeded.freshSink(driver);
      let dropped = false;
      const dropAtFinalize: FaultInjector = {
        check(point) {
          if (dropped || point.phase !== 'finalize' || point.step !== 1) return;
          dropped = true;
          driver.dropConnection();
        },
      };
      const failure = await expectFailureThenConvergence(seeded, 'finalize', () => seeded.load(sink, dropAtFinalize));
      expect(dropped).toBe(true);
      expect(String(failure.cause)).toMatch(/terminat|connection/i);
    }, 60_000);
  },
);
