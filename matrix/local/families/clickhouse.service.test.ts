import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Source } from '../../../engine/connectors/index.ts';
import type { LoadState } from '../../../engine/state/index.ts';
import type { StrategyName } from '../../../engine/strategies/index.ts';
import { loadHarnessCase } from '../../../fixtures/connector-test-support.ts';
import { memorySourceFor } from '../../../fixtures/scenario.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import { chdbInstalled } from '../../../fixtures/services/chdb-embedded.ts';
import type { ClickHouseConnection } from '../../../fixtures/services/clickhouse-providers.ts';
import { CLICKHOUSE_PROVIDERS, openClickHouseDriver } from '../../../fixtures/services/clickhouse-providers.ts';
import type { ServiceHandle } from '../../../fixtures/services/provider.ts';
import { sourceFamily } from '../../families.ts';
import type { SinkHarness, SourceHarness } from '../family-harness.ts';
import { clickHouseSinkHarness, clickHouseSourceHarness } from './clickhouse.ts';

/**
 * The local-mode harnesses end to end on chdb (the embedded provider): a ClickHouse source (or the
 * memory fixture) loaded by runLoad into a seeded ClickHouse sink, and the target read back must
 * pass every quality check. Releasing a case leaves none of its databases behind.
 */

const installed = chdbInstalled();
const FIXTURE = buildSourceFixture('clickhouse', { rows: 600, changeRatio: 0.2, deleteRatio: 0.05 });
/** Every strategy of a DB sink that a ClickHouse source can feed (no xmin, no CDC). */
const CLICKHOUSE_STRATEGIES: readonly StrategyName[] = [
  'full_refresh', 'incremental_append', 'incremental_merge', 'replace', 'snapshot_diff', 'partition_replace', 'scd2', 'backfill',
];
/** A memory source with Postgres' capabilities feeds xmin and cdc too. */
const MEMORY_STRATEGIES: readonly StrategyName[] = [...CLICKHOUSE_STRATEGIES, 'xmin', 'cdc'];

let handle: ServiceHandle<ClickHouseConnection> | undefined;
let sourceHarness: SourceHarness;
let sinkHarness: SinkHarness;

/** Loads `source` into a seeded ClickHouse sink in `ns`; returns the failed checks. */
function loadInto(source: Source, baseCursor: LoadState, strategyName: StrategyName, ns: string): Promise<string[]> {
  return loadHarnessCase({ fixture: FIXTURE, strategy: strategyName, sinkKind: 'relational', source, baseCursor, sinkHarness, ns, targetName: 'dpone_target' });
}

/** Databases of a case still there. */
async function leftovers(ns: string): Promise<string[]> {
  if (!handle) throw new Error('ClickHouse is not running');
  const driver = await openClickHouseDriver(handle.connection);
  try {
    const rows = await driver.query({ sql: 'SELECT name FROM system.databases WHERE startsWith(name, {p1:String})', params: [ns] });
    return rows.map((row) => String(row[0]));
  } finally {
    await driver.close();
  }
}

describe.skipIf(!installed)(
  installed ? 'ClickHouse harnesses on chdb' : 'ClickHouse harnesses on chdb — skipped: chdb not installed: run pnpm services:install',
  () => {
    beforeAll(async () => {
      const embedded = CLICKHOUSE_PROVIDERS.find((provider) => provider.kind === 'embedded');
      if (!embedded) throw new Error('no embedded ClickHouse provider');
      handle = await embedded.start({});
      sourceHarness = clickHouseSourceHarness(handle);
      sinkHarness = clickHouseSinkHarness(handle);
    });

    afterAll(async () => {
      await sourceHarness.close();
      await sinkHarness.close();
      await handle?.stop();
    });

    test.each(CLICKHOUSE_STRATEGIES)('clickhouse → clickhouse %s passes every quality check and releases its databases', async (strategy) => {
      const ns = `ch_${strategy}`;
      const seededSource = await sourceHarness.seedSource(FIXTURE, ns);
      try {
        expect(await loadInto(seededSource.source, seededSource.baseCursor, strategy, ns)).toEqual([]);
      } finally {
        await seededSource.release();
      }
      expect(await leftovers(ns)).toEqual([]);
    }, 120_000);

    test.each(MEMORY_STRATEGIES)('memory fixture → clickhouse %s passes every quality check', async (strategy) => {
      const source = memorySourceFor(FIXTURE, sourceFamily('postgres').capabilities);
      const ns = `mem_${strategy}`;
      expect(await loadInto(source, source.baseCursor(), strategy, ns)).toEqual([]);
      expect(await leftovers(ns)).toEqual([]);
    }, 120_000);

    test('release is idempotent and a released case can be seeded again', async () => {
      const seeded = await sourceHarness.seedSource(FIXTURE, 'ch_again');
      await seeded.release();
      await seeded.release();
      const again = await sourceHarness.seedSource(FIXTURE, 'ch_again');
      try {
        expect((await again.source.readSnapshot()).rows.length).toBe(FIXTURE.after.length);
      } finally {
        await again.release();
      }
    }, 60_000);
  },
);
