import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { CanonicalValue } from '../../schema/index.ts';
import type { QualifiedName } from '../../sql/names.ts';
import type { SqlStatement } from '../../sql/sql-statement.ts';
import { sqlText } from '../../sql/sql-statement.ts';
import { ClickHouseDialect } from './clickhouse-dialect.ts';

/**
 * Settings every statement runs with, whichever the driver:
 * - wide tables partitioned by day span more than 100 partitions per insert block;
 * - deletes and SCD2 updates read keys from staging in an `IN (SELECT …)`, which ClickHouse calls
 *   non-deterministic for a mutation;
 * - the default fast float parser may miss the last bit, and a read-back must equal what was written;
 * - 64-bit integers in JSON output are quoted (exact in JavaScript) by servers, not by chdb: both
 *   drivers ask for it, so they return the same values;
 * - `INSERT … SELECT` (staging, swap twins) runs on one thread unless told otherwise; the server
 *   caps the figure at its `max_threads`.
 */
export const CLICKHOUSE_DRIVER_SETTINGS: Readonly<Record<string, number>> = Object.freeze({
  max_partitions_per_insert_block: 0,
  allow_nondeterministic_mutations: 1,
  precise_float_parsing: 1,
  output_format_json_quote_64bit_integers: 1,
  max_insert_threads: 8,
});

/** Rows as arrays of JSON values (64-bit integers quoted); statements read exact types through `toString`. */
export type ClickHouseRows = readonly (readonly unknown[])[];

/**
 * What the ClickHouse sink and source need of a connection: run a compiled statement (its
 * `{pN:Type}` placeholders bound server-side from `params`), run commands, and insert
 * TabSeparated text through the native `INSERT … FORMAT` path.
 */
export interface ClickHouseDriver {
  /** Runs a query; returns its rows (JSONCompactEachRow). */
  query(statement: SqlStatement): Promise<ClickHouseRows>;
  /** Runs statements that return nothing (DDL, INSERT … SELECT, mutations), in order. */
  execute(statements: readonly SqlStatement[]): Promise<void>;
  /** The first column of the first row (a count), or null when there is no row. */
  scalar(statement: SqlStatement): Promise<unknown>;
  /** Inserts `body`, TabSeparated (every column, in table order), into `table`: `INSERT … FORMAT` or `FROM INFILE`. */
  insertTabSeparated(table: QualifiedName, body: Buffer): Promise<void>;
  close(): Promise<void>;
}

/** A statement's parameters by placeholder name: the compiler numbers them `{p1:…}`, `{p2:…}`, … */
export function queryParams(statement: SqlStatement): Record<string, CanonicalValue> {
  const params: Record<string, CanonicalValue> = {};
  statement.params.forEach((value, index) => { params[`p${index + 1}`] = value; });
  return params;
}

/** Parses JSONCompactEachRow output: one JSON array per line. */
export function parseCompactRows(text: string): ClickHouseRows {
  const rows: unknown[][] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const row: unknown = JSON.parse(line);
    if (!Array.isArray(row)) throw new Error(`clickhouse: expected a JSON array per row, got ${line.slice(0, 100)}`);
    rows.push(row);
  }
  return rows;
}

/** Runs statements one by one through `run`. */
async function runEach(statements: readonly SqlStatement[], run: (statement: SqlStatement) => Promise<unknown>): Promise<void> {
  for (const statement of statements) await run(statement);
}

// ── server (HTTP, @clickhouse/client) ─────────────────────────────────────────────────────────────

type Settings = Readonly<Record<string, number>>;

/** The parts of an `@clickhouse/client` client the server driver calls. */
export interface ClickHouseClientShape {
  query(params: { query: string; format: 'JSONCompactEachRow'; query_params: Record<string, CanonicalValue>; clickhouse_settings: Settings }): Promise<{ json(): Promise<unknown> }>;
  command(params: { query: string; query_params: Record<string, CanonicalValue>; clickhouse_settings: Settings }): Promise<unknown>;
  insert(params: { table: string; values: Readable; format: 'TabSeparated'; clickhouse_settings: Settings }): Promise<unknown>;
  close(): Promise<void>;
}

/** Quotes table names and file paths of inserts. */
const DIALECT = new ClickHouseDialect();

/** A ClickHouse server over HTTP, through an `@clickhouse/client` client handed in by the caller. */
export class ClickHouseServerDriver implements ClickHouseDriver {
  constructor(private readonly client: ClickHouseClientShape) {}

  async query(statement: SqlStatement): Promise<ClickHouseRows> {
    const result = await this.client.query({
      query: statement.sql, format: 'JSONCompactEachRow', query_params: queryParams(statement), clickhouse_settings: CLICKHOUSE_DRIVER_SETTINGS,
    });
    const rows = await result.json();
    if (!Array.isArray(rows)) throw new Error('clickhouse: JSONCompactEachRow did not parse to an array');
    return rows as ClickHouseRows;
  }

  execute(statements: readonly SqlStatement[]): Promise<void> {
    return runEach(statements, (statement) => this.client.command({
      query: statement.sql, query_params: queryParams(statement), clickhouse_settings: CLICKHOUSE_DRIVER_SETTINGS,
    }));
  }

  async scalar(statement: SqlStatement): Promise<unknown> {
    return (await this.query(statement))[0]?.[0] ?? null;
  }

  async insertTabSeparated(table: QualifiedName, body: Buffer): Promise<void> {
    await this.client.insert({ table: DIALECT.qualified(table), values: Readable.from([body]), format: 'TabSeparated', clickhouse_settings: CLICKHOUSE_DRIVER_SETTINGS });
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

// ── embedded (chdb) ───────────────────────────────────────────────────────────────────────────────

/** The part of a chdb result the driver reads. */
export interface ChdbResultShape {
  text(): string;
}

/**
 * The parts of a chdb 3.x `Session` the embedded driver calls. One process may hold only one data
 * directory, but several sessions on it: each has its own connection (and its own `SET`s).
 */
export interface ChdbSessionShape {
  queryAsync(query: string, options: { format: string }): Promise<ChdbResultShape>;
  queryBindAsync(query: string, params: Record<string, CanonicalValue>, options: { format: string }): Promise<ChdbResultShape>;
  close(): void;
}

/**
 * In-process ClickHouse (chdb) over a `Session` handed in by the caller. The driver settings are
 * `SET` on the session before its first statement (a session keeps its own settings).
 *
 * Inserts go through a file: chdb's own insert appends the data to the query text, which one thread
 * then parses (about 50 MB/s), while `INSERT … FROM INFILE` reads it with ClickHouse's parallel
 * parser, several times faster; the file, in a directory of the driver's own, is only in the page
 * cache for the moment it exists.
 */
export class ChdbDriver implements ClickHouseDriver {
  private configured?: Promise<void>;
  /** The directory insert files are written to, made at the first insert and removed on close. */
  private spool?: Promise<string>;
  private spooled = 0;

  constructor(private readonly session: ChdbSessionShape) {}

  async query(statement: SqlStatement): Promise<ClickHouseRows> {
    return parseCompactRows((await this.run(statement, 'JSONCompactEachRow')).text());
  }

  execute(statements: readonly SqlStatement[]): Promise<void> {
    return runEach(statements, (statement) => this.run(statement, 'TabSeparated'));
  }

  async scalar(statement: SqlStatement): Promise<unknown> {
    return (await this.query(statement))[0]?.[0] ?? null;
  }

  async insertTabSeparated(table: QualifiedName, body: Buffer): Promise<void> {
    this.spool ??= mkdtemp(join(tmpdir(), 'dpone-chdb-insert-'));
    const file = join(await this.spool, `${this.spooled++}.tsv`);
    await writeFile(file, body);
    try {
      await this.run(sqlText(`INSERT INTO ${DIALECT.qualified(table)} FROM INFILE ${DIALECT.literal(file)} FORMAT TabSeparated`), 'TabSeparated');
    } finally {
      await rm(file, { force: true });
    }
  }

  /** Closes the session (the data directory stays for other sessions of the process) and removes the insert files' directory. */
  async close(): Promise<void> {
    this.session.close();
    if (this.spool) await rm(await this.spool, { recursive: true, force: true });
  }

  private async run(statement: SqlStatement, format: string): Promise<ChdbResultShape> {
    await this.configure();
    return statement.params.length === 0
      ? this.session.queryAsync(statement.sql, { format })
      : this.session.queryBindAsync(statement.sql, queryParams(statement), { format });
  }

  private configure(): Promise<void> {
    this.configured ??= (async () => {
      for (const [name, value] of Object.entries(CLICKHOUSE_DRIVER_SETTINGS)) await this.session.queryAsync(`SET ${name} = ${value}`, { format: 'TabSeparated' });
    })();
    return this.configured;
  }
}
