import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Row } from '../../schema/index.ts';
import { columnIndex, formatTimestamp } from '../../schema/index.ts';
import type { ChangeRecord, RowPredicate } from '../../plan/index.ts';
import { MemoryStateStore } from '../../state/index.ts';
import type { StrategyName } from '../../strategies/index.ts';
import { DEFAULT_STRATEGIES } from '../../strategies/index.ts';
import { runLoad } from '../../lifecycle/index.ts';
import { MemoryTableSink } from '../memory/index.ts';
import type { MemorySource } from '../memory/index.ts';
import type { ChangeRead } from '../source.ts';
import { RestApiError, RestApiSource } from './rest-api-source.ts';
import { tableChecksum } from '../../../fixtures/checksum.ts';
import { expectationFor } from '../../../fixtures/oracle.ts';
import type { RestMockOptions } from '../../../fixtures/rest-mock/index.ts';
import { failNthRequest, RestMockServer, toWireRow, toWireValue } from '../../../fixtures/rest-mock/index.ts';
import { memorySourceFor, targetBeforeRows } from '../../../fixtures/scenario.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import { sourceFamily } from '../../../matrix/families.ts';
import { evaluateQualityChecks } from '../../../matrix/quality-checks.ts';

/**
 * The REST source against the in-process mock API: every read over HTTP (paged so pages never align
 * with partitions or filters) must equal the memory source's read of the same fixture, which proves
 * each wire value decodes back into the canonical value it was encoded from.
 */

const FIXTURE = buildSourceFixture('rest_api', { rows: 1_200, changeRatio: 0.2, deleteRatio: 0.05 });
const CAPABILITIES = sourceFamily('rest_api').capabilities;
/** Prime, so pages cut across partitions (500 rows) and filter windows. */
const PAGE_SIZE = 97;
const KEY = columnIndex(FIXTURE.schema, 'id');
const BUSINESS_DATE = columnIndex(FIXTURE.schema, 'business_date');

const memory: MemorySource = memorySourceFor(FIXTURE, CAPABILITIES);
const servers: RestMockServer[] = [];

async function startServer(options: RestMockOptions = {}): Promise<RestMockServer> {
  const server = new RestMockServer(FIXTURE, options);
  servers.push(server);
  await server.start();
  return server;
}

function sourceFor(server: RestMockServer, init: { pageSize?: number; retries?: number } = {}): RestApiSource {
  return new RestApiSource({ baseUrl: server.collectionUrl, schema: FIXTURE.schema, pageSize: PAGE_SIZE, retryDelayMs: 1, ...init });
}

const byKey = (rows: readonly Row[]) => [...rows].sort((a, b) => Number(a[KEY]) - Number(b[KEY]));
const pagesFor = (rows: number) => Math.max(1, Math.ceil(rows / PAGE_SIZE));
const changeSummary = (read: ChangeRead) => read.changes.map((c: ChangeRecord) => [c.op, c.key, c.at]);

let server: RestMockServer;
let source: RestApiSource;

beforeAll(async () => {
  server = await startServer();
  source = sourceFor(server);
});

afterAll(async () => {
  for (const started of servers) await started.stop();
});

describe('the fixture has what these tests need', () => {
  test('updates, deletes and inserts across three partitions', () => {
    const ops = new Set(FIXTURE.changes.map((change) => change.op));
    expect([...ops].sort()).toEqual(['D', 'I', 'U']);
    expect(new Set(FIXTURE.after.map((row) => row[BUSINESS_DATE])).size).toBe(3);
    expect(FIXTURE.after.length % PAGE_SIZE).not.toBe(0);
  });
});

describe('readSnapshot', () => {
  test('every row of the current table round-trips the wire into the same canonical values', async () => {
    const [rest, mem] = await Promise.all([source.readSnapshot(), memory.readSnapshot()]);
    expect(rest.rows.length).toBe(FIXTURE.after.length);
    expect(tableChecksum(rest.rows)).toEqual(tableChecksum(mem.rows));
    // Key order is the API's page order; the memory source keeps insertion order.
    expect(rest.rows.map((row) => row[KEY])).toEqual(byKey(mem.rows).map((row) => row[KEY]));
    expect(rest.rows).toEqual(byKey(mem.rows));
    expect(rest.rows.every((row) => Object.isFrozen(row))).toBe(true);
    expect(rest.asOf).toBe(FIXTURE.snapshotAt);
    expect(rest.cursor).toEqual({ watermark: mem.cursor.watermark });
  });

  test('follows every page: one request per page of the asked size', async () => {
    const local = await startServer();
    const read = await sourceFor(local).readSnapshot();
    expect(read.rows.length).toBe(FIXTURE.after.length);
    expect(local.log.map((entry) => entry.status)).toEqual(Array(pagesFor(FIXTURE.after.length)).fill(200));
  });

  const filters: readonly [string, RowPredicate, boolean][] = [
    ['the fixture window (between on the key)', FIXTURE.window, true],
    ['a key window that cuts partitions and pages', { kind: 'between', column: 'id', lo: 450, hi: 1_013 }, true],
    ['two partitions (in on business_date)', { kind: 'in', column: 'business_date', values: ['2024-01-01', '2024-01-03'] }, true],
    ['a partition with no rows', { kind: 'in', column: 'business_date', values: ['1999-12-31'] }, true],
    ['between on a column the API cannot filter (applied locally)', { kind: 'between', column: 'row_version', lo: 2, hi: 2 }, false],
  ];

  test.each(filters)('%s equals the memory source', async (_name, filter, pushedDown) => {
    const local = await startServer();
    const [rest, mem] = await Promise.all([sourceFor(local).readSnapshot(filter), memory.readSnapshot(filter)]);
    expect(rest.rows.length).toBe(mem.rows.length);
    expect(tableChecksum(rest.rows)).toEqual(tableChecksum(mem.rows));
    expect(rest.rows).toEqual(byKey(mem.rows));
    // A pushed-down filter costs only the pages of its result; a local one reads the whole table.
    expect(local.log.length).toBe(pagesFor(pushedDown ? mem.rows.length : FIXTURE.after.length));
    if (pushedDown) expect(mem.rows.length).toBeLessThan(FIXTURE.after.length);
  });

  test('pushes the filters down as query parameters and pages with the same filter', async () => {
    const local = await startServer();
    const probe = sourceFor(local);
    await probe.readSnapshot({ kind: 'between', column: 'id', lo: 10, hi: 20 });
    await probe.readSnapshot({ kind: 'in', column: 'business_date', values: ['2024-01-02'] });
    const queries = local.log.map((entry) => new URLSearchParams(entry.search));
    expect(queries.length).toBe(1 + pagesFor(500));
    expect(Object.fromEntries(queries[0] ?? [])).toEqual({ id_from: '10', id_to: '20', page_size: String(PAGE_SIZE) });
    for (const [index, query] of queries.slice(1).entries()) {
      expect(query.get('business_date_in')).toBe('2024-01-02');
      expect(query.has('page')).toBe(index > 0);
    }
  });
});

describe('readChanges', () => {
  test('from the base cursor equals the memory source: op, key, at, rows and cursor', async () => {
    const base = memory.baseCursor();
    const [rest, mem] = await Promise.all([source.readChanges(base), memory.readChanges(base)]);
    expect(rest.changes.length).toBe(FIXTURE.changes.length);
    expect(changeSummary(rest)).toEqual(changeSummary(mem));
    expect(tableChecksum(rest.changes.map((c) => c.row))).toEqual(tableChecksum(mem.changes.map((c) => c.row)));
    expect(rest.changes.map((c) => c.row)).toEqual(mem.changes.map((c) => c.row));
    expect(rest.changes.every((c) => c.position === String(c.at))).toBe(true);
    expect(rest.cursor).toEqual(mem.cursor);
  });

  test('deletes carry the before image (a soft-delete feed)', async () => {
    const rest = await source.readChanges(memory.baseCursor());
    const deletes = rest.changes.filter((c) => c.op === 'D');
    expect(deletes.length).toBe(FIXTURE.split.deletes);
    for (const change of deletes) expect(change.row).toEqual(FIXTURE.before[Number(change.key) - 1]);
  });

  test('from a watermark inside the delta returns only the later changes', async () => {
    const middle = FIXTURE.changes[Math.floor(FIXTURE.changes.length / 2)] as ChangeRecord;
    const state = { watermark: middle.at };
    const [rest, mem] = await Promise.all([source.readChanges(state), memory.readChanges(state)]);
    expect(rest.changes.length).toBeGreaterThan(0);
    expect(rest.changes.length).toBeLessThan(FIXTURE.changes.length);
    expect(changeSummary(rest)).toEqual(changeSummary(mem));
    expect(rest.cursor).toEqual(mem.cursor);
  });

  test('at the head returns nothing and keeps the watermark; without one returns the whole feed', async () => {
    const head = (await memory.readSnapshot()).cursor;
    const none = await source.readChanges({ watermark: head.watermark });
    expect(none).toEqual({ changes: [], cursor: { watermark: head.watermark } });
    const all = await source.readChanges({});
    expect(changeSummary(all)).toEqual(changeSummary(await memory.readChanges({})));
    expect(all.cursor).toEqual({ watermark: head.watermark });
  });
});

describe('retries and errors', () => {
  test('a 503 on one page is retried and the result is unchanged', async () => {
    const local = await startServer({ fault: failNthRequest(3, 503) });
    const read = await sourceFor(local).readSnapshot();
    expect(tableChecksum(read.rows)).toEqual(tableChecksum(FIXTURE.after));
    expect(local.log[2]?.status).toBe(503);
    expect(local.log.filter((entry) => entry.status === 200).length).toBe(pagesFor(FIXTURE.after.length));
  });

  test('a dropped connection on the change feed is retried and the result is unchanged', async () => {
    const local = await startServer({ fault: failNthRequest(2, 'reset') });
    const read = await sourceFor(local).readChanges(memory.baseCursor());
    expect(changeSummary(read)).toEqual(changeSummary(await memory.readChanges(memory.baseCursor())));
    expect(local.log[1]?.status).toBe('reset');
  });

  test('retries are bounded: a server that keeps failing is an error after retries + 1 attempts', async () => {
    const local = await startServer({ fault: () => 503 });
    await expect(sourceFor(local, { retries: 2 }).readSnapshot()).rejects.toThrow(/failed after 3 attempts: HTTP 503/);
    expect(local.log.length).toBe(3);
  });

  test('a 404 base path fails at once with a message naming the URL and the status', async () => {
    const bad = new RestApiSource({ baseUrl: `${server.url}/v1/nope`, schema: FIXTURE.schema, retryDelayMs: 1 });
    const error = await bad.readSnapshot().then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(RestApiError);
    expect(error).toMatchObject({ status: 404 });
    expect(String(error)).toContain(`GET ${server.url}/v1/nope?page_size=500`);
    expect(String(error)).toContain('HTTP 404');
  });

  test('a 400 (page size over the API limit) is not retried', async () => {
    const local = await startServer();
    await expect(sourceFor(local, { pageSize: 20_000 }).readChanges({})).rejects.toThrow(/changes\?page_size=20000 failed with HTTP 400: .*page_size/);
    expect(local.log.map((entry) => entry.status)).toEqual([400]);
  });

  test('the mock answers bad parameters with 400 and unknown paths with 404', async () => {
    const statusOf = async (path: string) => (await fetch(`${server.url}${path}`)).status;
    expect(await statusOf('/v1/orders?page=not-a-token')).toBe(400);
    expect(await statusOf('/v1/orders?id_from=abc')).toBe(400);
    expect(await statusOf('/v1/orders?business_date_in=2024-02-30')).toBe(400);
    expect(await statusOf('/v1/orders?colour=red')).toBe(400);
    expect(await statusOf('/v1/orders/changes?updated_since=yesterday')).toBe(400);
    expect(await statusOf('/v1/orders?page_size=0')).toBe(400);
    expect(await statusOf('/v2/orders')).toBe(404);
    expect(await statusOf('/v1/orders?id_from=1&id_to=3')).toBe(200);
  });

  test('xmin and cdc reads are refused with the reason', async () => {
    expect(source.capabilities).toEqual(CAPABILITIES);
    await expect(source.readXmin({})).rejects.toThrow(/rest_api does not support xmin/);
    await expect(source.readCdc({})).rejects.toThrow(/rest_api does not support cdc/);
  });
});

describe('wire format', () => {
  test('values are sent the way a JSON API sends them', () => {
    expect(toWireValue('timestamp', 1_700_000_000_123_456)).toBe(formatTimestamp(1_700_000_000_123_456));
    expect(toWireValue('timestamp', 1_700_000_000_123_456)).toBe('2023-11-14T22:13:20.123456Z');
    expect(toWireValue('integer', 42)).toBe(42);
    expect(toWireValue('decimal', '-12.5')).toBe('-12.5');
    expect(toWireValue('bigint', '9007199254740993')).toBe('9007199254740993');
    expect(toWireValue('float', Number.NaN)).toBe('NaN');
    expect(toWireValue('boolean', true)).toBe(true);
    expect(toWireValue('json', null)).toBe(null);
    const wire = toWireRow(FIXTURE.schema.columns, FIXTURE.after[0] as Row);
    expect(Object.keys(wire)).toEqual(FIXTURE.schema.columns.map((column) => column.name));
    expect(wire.updated_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
  });
});

describe('the mock server as a service', () => {
  test('binds to 127.0.0.1 on a free port, and stop() frees the port', async () => {
    const local = new RestMockServer(FIXTURE);
    const url = await local.start();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const port = Number(new URL(url).port);
    expect(port).toBeGreaterThan(0);
    // A keep-alive connection is open when stop() runs: stop must close it too.
    expect((await fetch(`${local.collectionUrl}?page_size=1`)).status).toBe(200);
    await local.stop();
    await expect(fetch(`${url}/v1/orders`)).rejects.toThrow();
    expect(() => local.url).toThrow(/not started/);
    const reuse = createServer();
    await new Promise<void>((resolve, reject) => {
      reuse.once('error', reject);
      reuse.listen(port, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => reuse.close(() => resolve()));
  });

  test('is async-disposable', async () => {
    const open = async () => {
      await using local = new RestMockServer(FIXTURE);
      return local.start();
    };
    // `open` disposes the server before its start() has settled: stop must wait for it, then close.
    const url = await open();
    await expect(fetch(url)).rejects.toThrow();
  });
});

describe('a load through the engine from the REST source', () => {
  const STRATEGIES: readonly StrategyName[] = [
    'incremental_merge', 'incremental_append', 'full_refresh', 'replace', 'snapshot_diff', 'partition_replace', 'scd2', 'backfill',
  ];

  test.each(STRATEGIES)('%s into a memory table passes every quality check', async (name) => {
    const strategy = DEFAULT_STRATEGIES.get(name);
    const local = await startServer();
    const rest = sourceFor(local);
    const pipeline = 'orders';
    const stateStore = new MemoryStateStore({ [pipeline]: memory.baseCursor() });
    const sink = new MemoryTableSink(targetBeforeRows(FIXTURE, strategy.targetShape('relational')), stateStore);
    const report = await runLoad({
      pipeline, source: rest, sink, strategy, stateStore: sink.stateStore,
      options: { window: FIXTURE.window, backfill: FIXTURE.backfill },
    });
    const target = { name: pipeline, dataSchema: FIXTURE.schema, shape: strategy.targetShape('relational') };
    const judgement = evaluateQualityChecks({
      fixture: FIXTURE,
      expectation: expectationFor(name, 'relational', FIXTURE),
      actual: await sink.read(target),
      load: report,
      storedState: await stateStore.load(pipeline),
    });
    expect(judgement.results.length).toBeGreaterThan(2);
    expect(judgement.results.filter((result) => !result.passed)).toEqual([]);
    expect(local.log.length).toBeGreaterThan(0);
    expect(local.log.every((entry) => entry.status === 200)).toBe(true);
  });
});
