import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FaultInjector, LifecyclePhase, LoadReport } from '../../lifecycle/index.ts';
import { failOnceAt, LoadFailedError } from '../../lifecycle/index.ts';
import type { StrategyName } from '../../strategies/index.ts';
import { seededSinkCase } from '../../../fixtures/connector-test-support.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import { chdbInstalled, openChdbSession } from '../../../fixtures/services/chdb-embedded.ts';
import { sourceFamily } from '../../../matrix/families.ts';
import { ChdbDriver } from './clickhouse-driver.ts';
import { insertCanonicalRows } from './clickhouse-native-insert.ts';
import { ClickHouseSink } from './clickhouse-sink.ts';

/**
 * Faults on real ClickHouse (chdb). The sink is not transactional, so a failed load may leave the
 * target half-changed; what must hold is that the state stays at the base cursor and that a rerun
 * converges — every quality check passes (no duplicate, no lost row). Faults hit after staging,
 * before every single statement of a finalize (so between the statements of one operation, and
 * after each of them took effect), before the state commit, and as a connection closed
 * mid-finalize with the rerun on a freshly opened session.
 */

const installed = chdbInstalled();
const FIXTURE = buildSourceFixture('clickhouse', { rows: 300, changeRatio: 0.2, deleteRatio: 0.05 });
const CAPABILITIES = sourceFamily('clickhouse').capabilities;
const STRATEGIES: readonly StrategyName[] = ['incremental_append', 'incremental_merge', 'scd2', 'partition_replace', 'full_refresh'];
/** More finalize statements than any strategy compiles: the step loop must end by itself. */
const MAX_STEPS = 20;

let dataDir: string | undefined;
const sinks: ClickHouseSink[] = [];
let databases = 0;

async function newSink(database: string): Promise<{ sink: ClickHouseSink; driver: ChdbDriver }> {
  if (!dataDir) throw new Error('no chdb data directory');
  const driver = new ChdbDriver(await openChdbSession(dataDir));
  const sink = new ClickHouseSink(driver, { schema: database });
  sinks.push(sink);
  return { sink, driver };
}

/** A target in a database of its own holding the before-state, with the base cursor committed. */
async function seeded(strategy: StrategyName) {
  const database = `f_${strategy}_${databases++}`;
  const { sink, driver } = await newSink(database);
  const load = await seededSinkCase(FIXTURE, CAPABILITIES, strategy, sink, `orders_${database}`, (into, columns, rows) => insertCanonicalRows(driver, sink.dialect, into, columns, rows));
  /** Runs the load with `faults`: the phase it failed at, or its report when no fault fired. */
  const failing = async (faults: FaultInjector & { fired: boolean }): Promise<{ phase: LifecyclePhase } | { report: LoadReport }> => {
    const outcome = await load.load(faults).then((report) => ({ report }), (caught: unknown) => ({ caught }));
    if ('report' in outcome) {
      expect(faults.fired).toBe(false);
      return outcome;
    }
    expect(faults.fired).toBe(true);
    expect(outcome.caught).toBeInstanceOf(LoadFailedError);
    return { phase: (outcome.caught as LoadFailedError).phase };
  };
  return { ...load, database, sink, driver, failing };
}

/** Asserts the state stayed at the base cursor, then reruns without faults and judges the result. */
async function rerunConverges(load: Awaited<ReturnType<typeof seeded>>, on = load.sink): Promise<void> {
  expect(await on.stateStore.load(load.pipeline)).toEqual(load.baseCursor);
  const rerun = await load.load(undefined, on);
  expect(rerun.batches.every((batch) => batch.committed)).toBe(true);
  expect(await load.judge(rerun, on)).toEqual([]);
}

describe.skipIf(!installed)(
  installed ? 'ClickHouseSink faults on chdb' : 'ClickHouseSink faults on chdb — skipped: chdb not installed: run pnpm services:install',
  () => {
    beforeAll(() => {
      dataDir = mkdtempSync(join(tmpdir(), 'dpone-chdb-faults-'));
    });

    afterAll(async () => {
      for (const sink of sinks) await sink.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    const phases: readonly LifecyclePhase[] = ['validate_staging', 'reconcile', 'commit_state'];

    test.each(STRATEGIES.flatMap((strategy) => phases.map((phase) => [strategy, phase] as const)))(
      '%s: a fault at %s keeps the base state; a rerun converges',
      async (strategy, phase) => {
        const load = await seeded(strategy);
        expect(await load.failing(failOnceAt(phase))).toEqual({ phase });
        await rerunConverges(load);
      },
      60_000,
    );

    test.each(STRATEGIES)('%s: a fault before any statement of the finalize keeps the base state; a rerun converges', async (strategy) => {
      let steps = 0;
      for (; steps < MAX_STEPS; steps++) {
        const load = await seeded(strategy);
        const outcome = await load.failing(failOnceAt('finalize', { step: steps }));
        if ('report' in outcome) {
          expect(await load.judge(outcome.report)).toEqual([]);
          break;
        }
        expect(outcome.phase).toBe('finalize');
        await rerunConverges(load);
      }
      // The loop ended because the finalize had no statement left to fail before, not at the cap.
      expect(steps).toBeGreaterThan(0);
      expect(steps).toBeLessThan(MAX_STEPS);
    }, 180_000);

    test.each(STRATEGIES)('%s: the connection closed mid-finalize; a rerun on a new session converges', async (strategy) => {
      const load = await seeded(strategy);
      // Between the first two statements; an append compiles to one, so there it is before that one.
      const step = strategy === 'incremental_append' ? 0 : 1;
      const dropped: FaultInjector & { fired: boolean } = {
        fired: false,
        check(point) {
          if (dropped.fired || point.phase !== 'finalize' || point.step !== step) return;
          dropped.fired = true;
          void load.driver.close();
        },
      };
      expect(await load.failing(dropped)).toEqual({ phase: 'finalize' });
      const { sink: fresh } = await newSink(load.database);
      await rerunConverges(load, fresh);
    }, 60_000);
  },
);
