import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StrategyName } from '../../strategies/index.ts';
import { seededSinkCase } from '../../../fixtures/connector-test-support.ts';
import { targetBeforeRows } from '../../../fixtures/scenario.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import { chdbInstalled, openChdbSession } from '../../../fixtures/services/chdb-embedded.ts';
import { sourceFamily } from '../../../matrix/families.ts';
import { ChdbDriver } from './clickhouse-driver.ts';
import { insertCanonicalRows } from './clickhouse-native-insert.ts';
import { ClickHouseSink } from './clickhouse-sink.ts';

/**
 * The ClickHouse sink on real ClickHouse (chdb, in-process, one data directory for the file): each
 * strategy loads the fixture's delta into a target seeded with the scenario's target-before rows,
 * in a database of its own, and the target read back must pass every quality check — which also
 * proves that every wide-column type family round-trips to its canonical value. xmin and cdc deltas
 * come from a memory source with Postgres' capabilities: the sink only sees the IR.
 */

const installed = chdbInstalled();
const FIXTURE = buildSourceFixture('clickhouse', { rows: 1_200, changeRatio: 0.2, deleteRatio: 0.05 });
const CAPABILITIES = sourceFamily('postgres').capabilities;
const STRATEGIES: readonly StrategyName[] = [
  'full_refresh', 'incremental_append', 'incremental_merge', 'replace', 'snapshot_diff', 'partition_replace', 'scd2', 'backfill', 'xmin', 'cdc',
];

let dataDir: string | undefined;
const sinks: ClickHouseSink[] = [];

/** A sink on a session of its own, loading into database `database`, and its driver. */
async function sinkIn(database: string): Promise<{ sink: ClickHouseSink; driver: ChdbDriver }> {
  if (!dataDir) throw new Error('no chdb data directory');
  const driver = new ChdbDriver(await openChdbSession(dataDir));
  const sink = new ClickHouseSink(driver, { schema: database });
  sinks.push(sink);
  return { sink, driver };
}

/** A target in `database` as the previous load left it: target-before rows and the base cursor committed. */
async function seeded(strategy: StrategyName, database: string) {
  const { sink, driver } = await sinkIn(database);
  const load = await seededSinkCase(FIXTURE, CAPABILITIES, strategy, sink, `orders_${database}`, (into, columns, rows) => insertCanonicalRows(driver, sink.dialect, into, columns, rows));
  return { ...load, sink };
}

describe.skipIf(!installed)(
  installed ? 'ClickHouseSink on chdb' : 'ClickHouseSink on chdb — skipped: chdb not installed: run pnpm services:install',
  () => {
    beforeAll(() => {
      dataDir = mkdtempSync(join(tmpdir(), 'dpone-chdb-sink-'));
    });

    afterAll(async () => {
      for (const sink of sinks) await sink.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    test('the target-before rows read back as written, in every type family', async () => {
      const { sink, target } = await seeded('incremental_merge', 's_roundtrip');
      const { rows } = await sink.read(target);
      const byKey = [...rows].sort((a, b) => Number(a[0]) - Number(b[0]));
      expect(byKey).toEqual(targetBeforeRows(FIXTURE, target.shape));
    }, 60_000);

    test.each(STRATEGIES)('%s: the target read back passes every quality check', async (strategy) => {
      const load = await seeded(strategy, `s_${strategy}`);
      const report = await load.load();
      expect(report.batches.every((batch) => batch.committed)).toBe(true);
      expect(await load.judge(report)).toEqual([]);
    }, 60_000);
  },
);
