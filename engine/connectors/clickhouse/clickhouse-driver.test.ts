import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { text } from 'node:stream/consumers';
import type { Readable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import type { CanonicalValue } from '../../schema/index.ts';
import type { ChdbSessionShape, ClickHouseClientShape } from './clickhouse-driver.ts';
import { ChdbDriver, CLICKHOUSE_DRIVER_SETTINGS, ClickHouseServerDriver, parseCompactRows, queryParams } from './clickhouse-driver.ts';

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

describe('ChdbDriver (a recording session)', () => {
  test('an insert reads its body from a file of its own, removed after the insert and its directory on close', async () => {
    const queries: { query: string; file?: string; body?: string }[] = [];
    let closed = false;
    const session: ChdbSessionShape = {
      queryAsync: (query) => {
        const file = /FROM INFILE '([^']+)'/.exec(query)?.[1];
        queries.push({ query, ...(file === undefined ? {} : { file, body: readFileSync(file, 'utf8') }) });
        return Promise.resolve({ text: () => '' });
      },
      queryBindAsync: () => Promise.reject(new Error('no parameters expected')),
      close: () => { closed = true; },
    };
    const driver = new ChdbDriver(session);
    await driver.insertTabSeparated({ schema: 'db', name: 'odd`name' }, Buffer.from('1\ta\n'));
    const inserts = queries.filter((entry) => entry.file !== undefined);
    expect(queries.filter((entry) => entry.query.startsWith('SET ')).length).toBe(Object.keys(CLICKHOUSE_DRIVER_SETTINGS).length);
    expect(inserts).toHaveLength(1);
    const [insert] = inserts;
    expect(insert?.query).toBe(`INSERT INTO \`db\`.\`odd\\\`name\` FROM INFILE '${insert?.file ?? ''}' FORMAT TabSeparated`);
    expect(insert?.body).toBe('1\ta\n');
    const file = insert?.file ?? '';
    expect(existsSync(file)).toBe(false);
    expect(existsSync(dirname(file))).toBe(true);
    await driver.close();
    expect(closed).toBe(true);
    expect(existsSync(dirname(file))).toBe(false);
  });
});
