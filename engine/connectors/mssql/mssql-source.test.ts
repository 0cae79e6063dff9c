import { describe, expect, test } from 'vitest';
import { rowHash } from '../../schema/index.ts';
import type { ChangeRecord } from '../../plan/index.ts';
import type { ChangeRead } from '../source.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import { cdcOperation, compareMssqlLsn, MssqlSource, mssqlLsn } from './mssql-source.ts';
import type { RecordedEvent } from './recording-mssql.ts';
import { RecordingMssql } from './recording-mssql.ts';

/**
 * The SQL Server source. Without a server: LSN text handling and the CDC read against a recording
 * fake of `mssql` (max LSN fixed first, the range, the operation codes, the order, the cursor).
 * The reads against a real server (SQL Server Agent running for CDC) are in
 * `mssql-source.service.test.ts`.
 */

const SMALL = buildSourceFixture('mssql', { rows: 20, changeRatio: 0.25, deleteRatio: 0.1 });
const TABLE = { schema: 'src', name: 'orders' };

const MAX = '0x0000002A000001F00007';
const MIN = '0x00000020000000100001';
const STATE = '0x0000002A000001F00003';
const NEXT = '0x0000002A000001F00004';

describe('SQL Server LSN text', () => {
  test('style-1 text, upper-cased; anything else is rejected', () => {
    expect(mssqlLsn('0x0000002a000001f00003')).toBe(STATE);
    expect(() => mssqlLsn('16/B374D848')).toThrow(/not a SQL Server LSN/);
    expect(() => mssqlLsn('0x1234')).toThrow(/not a SQL Server LSN/);
  });

  test('fixed-width hex orders like the LSNs; __$operation decodes 1/2/4 and skips 3', () => {
    expect(compareMssqlLsn(STATE, NEXT)).toBe(-1);
    expect(compareMssqlLsn(MAX, MIN)).toBe(1);
    expect(compareMssqlLsn(STATE, STATE.toLowerCase())).toBe(0);
    expect([1, 2, 3, 4].map(cdcOperation)).toEqual(['D', 'I', null, 'U']);
    expect(() => cdcOperation(5)).toThrow(/unknown __\$operation 5/);
  });
});

/** A fake server whose change function returns `changes` and whose journal knows the deletions. */
function cdcServer(changes: readonly (readonly unknown[])[]): RecordingMssql {
  return new RecordingMssql((sql) => {
    if (sql.includes('sys.fn_cdc_get_min_lsn')) return [[MAX, MIN, NEXT]];
    if (sql.includes('fn_cdc_get_all_changes_')) return changes;
    if (sql.includes('[dpone_deleted_at] IS NOT NULL AND [id] IN')) {
      return SMALL.changes.filter((change) => change.op === 'D').map((change) => [change.key, change.at]);
    }
    return undefined;
  });
}

const queries = (events: readonly RecordedEvent[]) => events.flatMap((event) => event.kind === 'query' ? [event] : []);
const summary = (read: ChangeRead | readonly ChangeRecord[], withAt = true) =>
  ('changes' in read ? read.changes : read).map((c) => (withAt ? [c.op, c.key, c.at, rowHash(c.row)] : [c.op, c.key, rowHash(c.row)]));

describe('MssqlSource.readCdc against a recording fake of mssql', () => {
  const CODE = { D: 1, I: 2, U: 4 } as const;
  /** The change function's rows: start LSN, __$operation, then the values as the read expressions return them. */
  const changeRows = SMALL.changes.flatMap((change, index) => {
    const lsn = `0x0000002A000001F0${(0x10 + index).toString(16).toUpperCase().padStart(4, '0')}`;
    const after = [lsn, CODE[change.op], ...change.row];
    // An update's before image (3) is not returned with N'all'; a stray one must still be skipped.
    return change.op === 'U' && index === 0 ? [[lsn, 3, ...change.row], after] : [after];
  });

  test('fixes the max LSN first, reads from the LSN after the state up to it, decodes 1/2/4 in order', async () => {
    const server = cdcServer(changeRows);
    const source = new MssqlSource(server.driver(), { table: TABLE, schema: SMALL.schema });
    const read = await source.readCdc({ lsn: STATE });
    const [bounds, changes, deletions, ...rest] = queries(server.events);
    expect(rest).toEqual([]);
    expect(bounds?.sql).toBe('SELECT CONVERT(varchar(22), sys.fn_cdc_get_max_lsn(), 1), CONVERT(varchar(22), sys.fn_cdc_get_min_lsn(@p1), 1), CONVERT(varchar(22), sys.fn_cdc_increment_lsn(CONVERT(binary(10), @p2, 1)), 1)');
    expect(bounds?.inputs.map((input) => input.value)).toEqual(['src_orders', STATE]);
    expect(changes?.sql.split('\n').slice(1)).toEqual([
      "FROM [cdc].[fn_cdc_get_all_changes_src_orders](CONVERT(binary(10), @p1, 1), CONVERT(binary(10), @p2, 1), N'all')",
      'ORDER BY [__$start_lsn], [__$seqval]',
    ]);
    expect(changes?.sql).toMatch(/^SELECT CONVERT\(varchar\(22\), \[__\$start_lsn\], 1\), \[__\$operation\], \[id\], CONVERT\(char\(10\), \[business_date\], 23\)/);
    expect(changes?.inputs.map((input) => input.value)).toEqual([NEXT, MAX]);
    expect(deletions?.inputs.map((input) => input.value)).toEqual(SMALL.changes.filter((change) => change.op === 'D').map((change) => change.key));
    expect(summary(read)).toEqual(summary(SMALL.changes));
    expect(read.changes.map((change) => change.position)).toEqual(changeRows.filter((row) => row[1] !== 3).map((row) => row[0]));
    expect(read.cursor).toEqual({ lsn: MAX });
  });

  test('without state the range starts at the capture instance minimum', async () => {
    const server = cdcServer([]);
    const read = await new MssqlSource(server.driver(), { table: TABLE, schema: SMALL.schema, captureInstance: 'orders_ci' }).readCdc({});
    const [bounds, changes] = queries(server.events);
    expect(bounds?.inputs.map((input) => input.value)).toEqual(['orders_ci', null]);
    expect(changes?.sql).toContain('[cdc].[fn_cdc_get_all_changes_orders_ci]');
    expect(changes?.inputs.map((input) => input.value)).toEqual([MIN, MAX]);
    expect(read).toEqual({ changes: [], cursor: { lsn: MAX } });
  });

  test('a state at the max LSN reads nothing and keeps its cursor; one older than the minimum is refused', async () => {
    const atHead = new RecordingMssql(() => [[STATE, MIN, NEXT]]);
    expect(await new MssqlSource(atHead.driver(), { table: TABLE, schema: SMALL.schema }).readCdc({ lsn: STATE })).toEqual({ changes: [], cursor: { lsn: STATE } });
    expect(queries(atHead.events)).toHaveLength(1);
    const cleanedUp = new RecordingMssql(() => [[MAX, '0x0000002A000001F00005', NEXT]]);
    await expect(new MssqlSource(cleanedUp.driver(), { table: TABLE, schema: SMALL.schema }).readCdc({ lsn: STATE })).rejects.toThrow(/older than capture instance src_orders's minimum LSN/);
    const disabled = new RecordingMssql(() => [[null, null, null]]);
    await expect(new MssqlSource(disabled.driver(), { table: TABLE, schema: SMALL.schema }).readCdc({})).rejects.toThrow(/does not exist or CDC is not enabled/);
  });

  test('snapshot reads run in a SNAPSHOT transaction', async () => {
    const server = new RecordingMssql((sql) => sql.includes('sys.fn_cdc_get_max_lsn()') ? [[null, STATE]] : []);
    const read = await new MssqlSource(server.driver(), { table: TABLE, schema: SMALL.schema, asOf: SMALL.snapshotAt }).readSnapshot();
    expect(read).toEqual({ rows: [], asOf: SMALL.snapshotAt, cursor: { lsn: STATE } });
    expect(server.events[0]).toEqual({ kind: 'begin', isolationLevel: server.isolationLevels.SNAPSHOT });
    expect(server.events.at(-1)).toEqual({ kind: 'commit' });
    expect(queries(server.events).every((query) => query.inTransaction)).toBe(true);
  });
});
