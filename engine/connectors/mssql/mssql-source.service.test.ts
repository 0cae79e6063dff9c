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
import type { MssqlConnection } from '../../../fixtures/services/mssql-providers.ts';
import { MSSQL_COMPOSE_DEFAULTS, openMssqlDriver } from '../../../fixtures/services/mssql-providers.ts';
import { externalEndpoint } from '../../../fixtures/services/provider.ts';
import { sourceFamily } from '../../../matrix/families.ts';
import { dropMssqlSchema } from '../../../matrix/local/families/mssql.ts';
import type { MssqlDriver } from './mssql-driver.ts';
import type { MssqlSource } from './mssql-source.ts';
import { seedMssqlSource } from './mssql-source.ts';

/**
 * The SQL Server source against a real server (`DPONE_IT_MSSQL_PORT_FORWARD`, SQL Server Agent
 * running for CDC): the fixture's base is bulk-loaded and its delta applied as real statements, one
 * transaction per change, and every read must equal the memory source's read of the same fixture.
 */

const CAPABILITIES = sourceFamily('mssql').capabilities;
const summary = (read: ChangeRead | readonly ChangeRecord[], withAt = true) =>
  ('changes' in read ? read.changes : read).map((c) => (withAt ? [c.op, c.key, c.at, rowHash(c.row)] : [c.op, c.key, rowHash(c.row)]));

const ENDPOINT = externalEndpoint('MSSQL', process.env, MSSQL_COMPOSE_DEFAULTS);
const FIXTURE = buildSourceFixture('mssql', { rows: 400, changeRatio: 0.2, deleteRatio: 0.05 });
const KEY = columnIndex(FIXTURE.schema, 'id');
const memory = memorySourceFor(FIXTURE, CAPABILITIES);
const SCHEMA_PREFIX = `dpone_it_${process.pid}`;
const byKey = (rows: readonly Row[]) => [...rows].sort((a, b) => Number(a[KEY]) - Number(b[KEY]));

describe.skipIf(!ENDPOINT)(
  ENDPOINT ? 'MssqlSource on SQL Server (DPONE_IT_MSSQL_PORT_FORWARD)' : 'MssqlSource on SQL Server — skipped: DPONE_IT_MSSQL_PORT_FORWARD is not set (docker compose -f docker/docker-compose.integration.yml up -d mssql)',
  () => {
    const connection: MssqlConnection | undefined = ENDPOINT && { provider: 'external', ...ENDPOINT };
    const opened: { driver: MssqlDriver; schema: string }[] = [];
    let source: MssqlSource;
    let base: LoadState;

    /** A fixture table seeded in `schema`, and the cursor taken after its base load. */
    async function seeded(schema: string): Promise<{ source: MssqlSource; base: LoadState }> {
      if (!connection) throw new Error('no SQL Server endpoint');
      const driver = await openMssqlDriver(connection);
      opened.push({ driver, schema });
      let cursor: LoadState = {};
      const seededSource = await seedMssqlSource(driver, { schema, name: 'orders' }, FIXTURE, {
        asOf: FIXTURE.snapshotAt, capabilities: CAPABILITIES,
        afterBase: async (seeding) => { cursor = await seeding.baseCursor(); },
      });
      return { source: seededSource, base: cursor };
    }

    beforeAll(async () => {
      ({ source, base } = await seeded(`${SCHEMA_PREFIX}_src`));
    }, 300_000);

    afterAll(async () => {
      for (const { driver, schema } of opened) {
        await dropMssqlSchema(driver, schema);
        await driver.close();
      }
    }, 60_000);

    test('the base cursor has the base watermark and an LSN', () => {
      expect(base.watermark).toBe(memory.baseCursor().watermark);
      expect(base.lsn).toMatch(/^0x[0-9A-F]{20}$/);
    });

    test('readSnapshot equals the memory snapshot', async () => {
      const [read, mem] = await Promise.all([source.readSnapshot(), memory.readSnapshot()]);
      expect(read.rows.length).toBe(FIXTURE.after.length);
      expect(tableChecksum(read.rows)).toEqual(tableChecksum(mem.rows));
      expect(read.rows).toEqual(byKey(mem.rows));
      expect(read.asOf).toBe(FIXTURE.snapshotAt);
      expect(read.cursor.watermark).toBe(mem.cursor.watermark);
    });

    test.each(snapshotFilters(FIXTURE))('readSnapshot filtered by %s equals the memory source', async (_name, filter) => {
      const [read, mem] = await Promise.all([source.readSnapshot(filter), memory.readSnapshot(filter)]);
      expect(read.rows.length).toBe(mem.rows.length);
      expect(tableChecksum(read.rows)).toEqual(tableChecksum(mem.rows));
    });

    test('readChanges after the base watermark equals the memory source', async () => {
      const [read, mem] = await Promise.all([source.readChanges(base), memory.readChanges(memory.baseCursor())]);
      expect(summary(read)).toEqual(summary(mem));
      expect(read.cursor).toEqual(mem.cursor);
      expect((await source.readChanges(read.cursor)).changes).toEqual([]);
    });

    test('readCdc returns the fixture changes in order, and nothing after its cursor', async () => {
      const read = await source.readCdc(base);
      expect(summary(read)).toEqual(summary(FIXTURE.changes));
      expect(read.cursor.lsn).toMatch(/^0x[0-9A-F]{20}$/);
      expect((await source.readCdc(read.cursor)).changes).toEqual([]);
    });

    const STRATEGIES: readonly StrategyName[] = ['cdc', 'incremental_merge'];

    test.each(STRATEGIES)('runLoad %s from SQL Server into a memory table passes every quality check', async (strategyName) => {
      const { source: loaded, base: cursor } = await seeded(`${SCHEMA_PREFIX}_load_${strategyName}`);
      expect(await loadIntoMemoryTable(FIXTURE, loaded, cursor, strategyName)).toEqual([]);
    }, 300_000);
  },
);
