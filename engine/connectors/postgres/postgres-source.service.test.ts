import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Row } from '../../schema/index.ts';
import { columnIndex, rowHash } from '../../schema/index.ts';
import type { ChangeRecord } from '../../plan/index.ts';
import type { LoadState } from '../../state/index.ts';
import type { StrategyName } from '../../strategies/index.ts';
import type { ChangeRead } from '../source.ts';
import { loadIntoMemoryTable, snapshotFilters } from '../../../fixtures/connector-test-support.ts';
import { tableChecksum } from '../../../fixtures/checksum.ts';
import { memorySourceFor } from '../../../fixtures/scenario.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import type { PgModule } from '../../../fixtures/services/postgres-embedded.ts';
import { EmbeddedPostgres, embeddedPostgresInstalled, loadPg } from '../../../fixtures/services/postgres-embedded.ts';
import { sourceFamily } from '../../../matrix/families.ts';
import { PostgresDriver } from './postgres-driver.ts';
import type { PostgresSource } from './postgres-source.ts';
import { parseDecodedChange, seedPostgresSource } from './postgres-source.ts';

/**
 * The Postgres source against a real server (embedded PostgreSQL 18, one cluster for the file): the
 * fixture's base is loaded and its delta applied as real statements, one transaction per change;
 * every read must equal the memory source's read of the same fixture.
 */

const installed = embeddedPostgresInstalled();
const FIXTURE = buildSourceFixture('postgres', { rows: 400, changeRatio: 0.2, deleteRatio: 0.05 });
const CAPABILITIES = sourceFamily('postgres').capabilities;
const KEY = columnIndex(FIXTURE.schema, 'id');
const memory = memorySourceFor(FIXTURE, CAPABILITIES);

const byKey = (rows: readonly Row[]) => [...rows].sort((a, b) => Number(a[KEY]) - Number(b[KEY]));
const summary = (read: ChangeRead | readonly ChangeRecord[], withAt = true) =>
  ('changes' in read ? read.changes : read).map((c) => (withAt ? [c.op, c.key, c.at, rowHash(c.row)] : [c.op, c.key, rowHash(c.row)]));

describe('parseDecodedChange', () => {
  const prefix = 'table public.t: ';
  test('quoted values with spaces and quotes, null, numbers, booleans and bit strings', () => {
    const change = parseDecodedChange(
      `table public.t: INSERT: id[integer]:7 name[text]:'it''s a b' n[numeric(38,10)]:-1.50 f[boolean]:true b[bit(1)]:B'1' x[character varying]:null a[text[]]:'{"x y",z}' "Odd ""c"""[text]:''`,
      prefix, '0/10');
    expect(change?.op).toBe('I');
    expect([...(change?.tuple ?? [])]).toEqual([
      ['id', '7'], ['name', 'it\'s a b'], ['n', '-1.50'], ['f', 'true'], ['b', '1'], ['x', null], ['a', '{"x y",z}'], ['Odd "c"', ''],
    ]);
  });

  test('an update takes unchanged toasted values from the old tuple; other tables are ignored', () => {
    const change = parseDecodedChange(
      'table public.t: UPDATE: old-key: id[integer]:1 big[text]:\'long new-tuple: text\' new-tuple: id[integer]:1 big[text]:unchanged-toast-datum',
      prefix, '0/20');
    expect(change?.op).toBe('U');
    expect([...(change?.tuple ?? [])]).toEqual([['id', '1'], ['big', 'long new-tuple: text']]);
    expect(parseDecodedChange('table public.other: DELETE: id[integer]:1', prefix, '0/30')).toBeNull();
  });
});

let server: EmbeddedPostgres | undefined;
let pg: PgModule | undefined;
const drivers: PostgresDriver[] = [];

function driver(): PostgresDriver {
  if (!server || !pg) throw new Error('embedded PostgreSQL is not running');
  const created = new PostgresDriver(new pg.Pool({ ...server.connection, max: 2 }));
  drivers.push(created);
  return created;
}

/** A fixture table seeded in `schema`, and the cursor taken after its base load. */
async function seeded(schema: string): Promise<{ source: PostgresSource; base: LoadState }> {
  let base: LoadState = {};
  const source = await seedPostgresSource(driver(), { schema, name: 'orders' }, FIXTURE, {
    asOf: FIXTURE.snapshotAt, slot: `dpone_${schema}`, capabilities: CAPABILITIES,
    afterBase: async (seeding) => { base = await seeding.baseCursor(); },
  });
  return { source, base };
}

describe.skipIf(!installed)(
  installed ? 'PostgresSource on embedded PostgreSQL 18' : 'PostgresSource on embedded PostgreSQL — skipped: embedded PostgreSQL not installed: run pnpm services:install',
  () => {
    let source: PostgresSource;
    let base: LoadState;

    beforeAll(async () => {
      server = await EmbeddedPostgres.start();
      pg = await loadPg();
      ({ source, base } = await seeded('src'));
    }, 180_000);

    afterAll(async () => {
      for (const created of drivers) await created.close();
      await server?.stop();
    }, 60_000);

    test('the base cursor has a watermark, an xmin and an LSN', () => {
      expect(base.watermark).toBe(memory.baseCursor().watermark);
      expect(typeof base.xmin).toBe('number');
      expect(base.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    });

    test('readSnapshot equals the memory snapshot', async () => {
      const [pgRead, mem] = await Promise.all([source.readSnapshot(), memory.readSnapshot()]);
      expect(pgRead.rows.length).toBe(FIXTURE.after.length);
      expect(tableChecksum(pgRead.rows)).toEqual(tableChecksum(mem.rows));
      expect(pgRead.rows).toEqual(byKey(mem.rows));
      expect(pgRead.rows.every((row) => Object.isFrozen(row))).toBe(true);
      expect(pgRead.asOf).toBe(FIXTURE.snapshotAt);
      expect(pgRead.cursor.watermark).toBe(mem.cursor.watermark);
    });

    test.each(snapshotFilters(FIXTURE))('readSnapshot filtered by %s equals the memory source', async (_name, filter) => {
      const [pgRead, mem] = await Promise.all([source.readSnapshot(filter), memory.readSnapshot(filter)]);
      expect(pgRead.rows.length).toBe(mem.rows.length);
      expect(tableChecksum(pgRead.rows)).toEqual(tableChecksum(mem.rows));
    });

    test('readChanges after the base watermark equals the memory source', async () => {
      const [pgRead, mem] = await Promise.all([source.readChanges(base), memory.readChanges(memory.baseCursor())]);
      expect(summary(pgRead)).toEqual(summary(mem));
      expect(pgRead.cursor).toEqual(mem.cursor);
      expect((await source.readChanges(pgRead.cursor)).changes).toEqual([]);
    });

    test('readXmin returns the rows of inserted and updated keys, and every current key', async () => {
      const [pgRead, mem] = await Promise.all([source.readXmin(base), memory.readXmin(memory.baseCursor())]);
      expect(pgRead.rows.map((row) => row[KEY])).toEqual(byKey(mem.rows).map((row) => row[KEY]));
      expect(tableChecksum(pgRead.rows)).toEqual(tableChecksum(mem.rows));
      expect([...pgRead.keys].sort((a, b) => Number(a) - Number(b))).toEqual([...mem.keys].sort((a, b) => Number(a) - Number(b)));
      expect(pgRead.cursor.xmin).toBeGreaterThan(base.xmin ?? 0);
      expect((await source.readXmin(pgRead.cursor)).rows).toEqual([]);
    });

    test('readCdc returns the fixture changes in order; after acknowledge the slot is past them', async () => {
      const read = await source.readCdc(base);
      expect(summary(read)).toEqual(summary(FIXTURE.changes));
      expect(read.cursor.lsn).toBeDefined();
      expect((await source.readCdc(read.cursor)).changes).toEqual([]);
      await source.acknowledge(read.cursor);
      expect((await source.readCdc({})).changes).toEqual([]);
      expect((await source.readCdc(read.cursor)).changes).toEqual([]);
    });

    const STRATEGIES: readonly StrategyName[] = ['xmin', 'cdc', 'incremental_merge'];

    test.each(STRATEGIES)('runLoad %s from Postgres into a memory table passes every quality check', async (strategyName) => {
      const { source: loaded, base: cursor } = await seeded(`load_${strategyName}`);
      expect(await loadIntoMemoryTable(FIXTURE, loaded, cursor, strategyName)).toEqual([]);
      if (strategyName === 'cdc') expect((await loaded.readCdc({})).changes).toEqual([]);
    }, 120_000);
  },
);
