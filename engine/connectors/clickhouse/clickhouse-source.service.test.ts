import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Row } from '../../schema/index.ts';
import { columnIndex, rowHash } from '../../schema/index.ts';
import type { LoadState } from '../../state/index.ts';
import type { StrategyName } from '../../strategies/index.ts';
import type { ChangeRead } from '../source.ts';
import { loadIntoMemoryTable, snapshotFilters } from '../../../fixtures/connector-test-support.ts';
import { tableChecksum } from '../../../fixtures/checksum.ts';
import { memorySourceFor } from '../../../fixtures/scenario.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import { chdbInstalled, openChdbSession } from '../../../fixtures/services/chdb-embedded.ts';
import { sourceFamily } from '../../../matrix/families.ts';
import { ChdbDriver } from './clickhouse-driver.ts';
import type { ClickHouseSource } from './clickhouse-source.ts';
import { seedClickHouseSource } from './clickhouse-source.ts';

/**
 * The ClickHouse source on real ClickHouse (chdb, one data directory for the file): the fixture's
 * base is loaded and its delta applied as real writes; every read must equal the memory source's
 * read of the same fixture.
 */

const installed = chdbInstalled();
const FIXTURE = buildSourceFixture('clickhouse', { rows: 400, changeRatio: 0.2, deleteRatio: 0.05 });
const CAPABILITIES = sourceFamily('clickhouse').capabilities;
const KEY = columnIndex(FIXTURE.schema, 'id');
const memory = memorySourceFor(FIXTURE, CAPABILITIES);

const byKey = (rows: readonly Row[]) => [...rows].sort((a, b) => Number(a[KEY]) - Number(b[KEY]));
const summary = (read: ChangeRead) => read.changes.map((c) => [c.op, c.key, c.at, rowHash(c.row)]);

let dataDir: string | undefined;
const sources: ClickHouseSource[] = [];

/** A fixture table seeded in database `database`, and the cursor taken after its base load. */
async function seeded(database: string): Promise<{ source: ClickHouseSource; base: LoadState }> {
  if (!dataDir) throw new Error('no chdb data directory');
  let base: LoadState = {};
  const source = await seedClickHouseSource(new ChdbDriver(await openChdbSession(dataDir)), { schema: database, name: 'orders' }, FIXTURE, {
    asOf: FIXTURE.snapshotAt, capabilities: CAPABILITIES,
    afterBase: async (seeding) => { base = await seeding.baseCursor(); },
  });
  sources.push(source);
  return { source, base };
}

describe.skipIf(!installed)(
  installed ? 'ClickHouseSource on chdb' : 'ClickHouseSource on chdb — skipped: chdb not installed: run pnpm services:install',
  () => {
    let source: ClickHouseSource;
    let base: LoadState;

    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'dpone-chdb-source-'));
      ({ source, base } = await seeded('src'));
    }, 120_000);

    afterAll(async () => {
      for (const created of sources) await created.close();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    test('the base cursor is the base watermark', () => {
      expect(base).toEqual({ watermark: memory.baseCursor().watermark });
    });

    test('readSnapshot equals the memory snapshot', async () => {
      const [read, mem] = await Promise.all([source.readSnapshot(), memory.readSnapshot()]);
      expect(read.rows.length).toBe(FIXTURE.after.length);
      expect(tableChecksum(read.rows)).toEqual(tableChecksum(mem.rows));
      expect(read.rows).toEqual(byKey(mem.rows));
      expect(read.rows.every((row) => Object.isFrozen(row))).toBe(true);
      expect(read.asOf).toBe(FIXTURE.snapshotAt);
      expect(read.cursor.watermark).toBe(mem.cursor.watermark);
    });

    test.each(snapshotFilters(FIXTURE))('readSnapshot filtered by %s equals the memory source', async (_name, filter) => {
      const [read, mem] = await Promise.all([source.readSnapshot(filter), memory.readSnapshot(filter)]);
      expect(read.rows.length).toBe(mem.rows.length);
      expect(tableChecksum(read.rows)).toEqual(tableChecksum(mem.rows));
    });

    test('readChanges after the base watermark equals the memory source; the next read is empty', async () => {
      const [read, mem] = await Promise.all([source.readChanges(base), memory.readChanges(memory.baseCursor())]);
      expect(read.changes.length).toBe(FIXTURE.changes.length);
      expect(summary(read)).toEqual(summary(mem));
      expect(read.cursor).toEqual(mem.cursor);
      expect((await source.readChanges(read.cursor)).changes).toEqual([]);
    });

    test('readChanges without a watermark returns every current row as an insert', async () => {
      const read = await source.readChanges({});
      expect(read.changes.filter((change) => change.op === 'I').length).toBe(FIXTURE.after.length);
      expect(read.changes.some((change) => change.op === 'D')).toBe(true);
    });

    test('xmin and cdc reads are refused', async () => {
      await expect(source.readXmin(base)).rejects.toThrow(/does not support xmin/);
      await expect(source.readCdc(base)).rejects.toThrow(/does not support cdc/);
    });

    const STRATEGIES: readonly StrategyName[] = ['incremental_merge', 'incremental_append', 'partition_replace', 'scd2'];

    test.each(STRATEGIES)('runLoad %s from ClickHouse into a memory table passes every quality check', async (strategyName) => {
      const { source: loaded, base: cursor } = await seeded(`load_${strategyName}`);
      expect(await loadIntoMemoryTable(FIXTURE, loaded, cursor, strategyName)).toEqual([]);
    }, 60_000);
  },
);
