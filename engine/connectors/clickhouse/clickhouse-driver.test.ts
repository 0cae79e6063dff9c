import { text } from 'node:stream/consumers';
import type { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import type { CanonicalValue } from '../../schema/index.ts';
import type { ClickHouseClientShape } from './clickhouse-driver.ts';
import { CLICKHOUSE_DRIVER_SETTINGS, ClickHouseServerDriver, parseCompactRows, queryParams } from './clickhouse-driver.ts';

/** A client that records what the server driver sends and answers queries with `rows`. */
function recordingClient(rows: unknown) {
  const calls: { method: string; query?: string; table?: string; params?: Record<string, CanonicalValue>; settings: unknown; body?: Promise<string> }[] = [];
  const client: ClickHouseClientShape = {
    query: (params) => {
      calls.push({ method: 'query', query: params.query, params: params.query_params, settings: params.clickhouse_settings });
      return Promise.resolve({ json: () => Promise.resolve(rows) });
    },
    command: (params) => {
      calls.push({ method: 'command', query: params.query, params: params.query_params, settings: params.clickhouse_settings });
      return Promise.resolve({});
    },
    insert: (params) => {
      calls.push({ method: 'insert', table: params.table, settings: params.clickhouse_settings, body: text(params.values as Readable) });
      return Promise.resolve({});
    },
    close: () => Promise.resolve(),
  };
  return { client, calls };
}

describe('ClickHouse driver helpers', () => {
  test('parameters are named after their 1-based placeholders', () => {
    expect(queryParams({ sql: 'SELECT {p1:Nullable(Int64)}, {p2:Nullable(String)}', params: ['9007199254740993', null] }))
      .toEqual({ p1: '9007199254740993', p2: null });
  });

  test('JSONCompactEachRow output parses to rows; empty output to none; anything else is refused', () => {
    expect(parseCompactRows('[1,"a",null]\n["2",true,"x\\ty"]\n')).toEqual([[1, 'a', null], ['2', true, 'x\ty']]);
    expect(parseCompactRows('')).toEqual([]);
    expect(() => parseCompactRows('{"a":1}\n')).toThrow(/JSON array per row/);
  });
});

describe('ClickHouseServerDriver (a recording client)', () => {
  test('queries and commands carry their parameters and the driver settings', async () => {
    const { client, calls } = recordingClient([['7']]);
    const driver = new ClickHouseServerDriver(client);
    expect(await driver.scalar({ sql: 'SELECT count() FROM t WHERE a = {p1:Nullable(Int32)}', params: [3] })).toBe('7');
    await driver.execute([{ sql: 'DELETE FROM t WHERE a = {p1:Nullable(Int32)}', params: [4] }, { sql: 'DROP TABLE u', params: [] }]);
    expect(calls.map(({ method, params, settings }) => [method, params, settings])).toEqual([
      ['query', { p1: 3 }, CLICKHOUSE_DRIVER_SETTINGS],
      ['command', { p1: 4 }, CLICKHOUSE_DRIVER_SETTINGS],
      ['command', {}, CLICKHOUSE_DRIVER_SETTINGS],
    ]);
  });

  test('inserts stream the TabSeparated body into the quoted table', async () => {
    const { client, calls } = recordingClient([]);
    await new ClickHouseServerDriver(client).insertTabSeparated({ schema: 'db', name: 'odd`name' }, Buffer.from('1\ta\n'));
    expect(calls[0]?.table).toBe('`db`.`odd\\`name`');
    expect(await calls[0]?.body).toBe('1\ta\n');
  });

  test('a result that is not an array of rows is refused', async () => {
    const { client } = recordingClient({ data: [] });
    await expect(new ClickHouseServerDriver(client).query({ sql: 'SELECT 1', params: [] })).rejects.toThrow(/did not parse to an array/);
  });
});
