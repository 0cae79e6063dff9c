import { Readable } from 'node:stream';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CanonicalValue } from '../../schema/index.ts';
import type { SqlStatement } from '../../sql/sql-statement.ts';
import { sqlText } from '../../sql/sql-statement.ts';

/**
 * The part of a `pg` query result the driver reads. Rows come back as arrays (`rowMode: 'array'`)
 * holding the server's text form of every value: the driver installs no type parsers, so nothing is
 * turned into a Date, Buffer or float by the client; `normalizeValue` makes the canonical value.
 */
export interface PgResultShape {
  readonly rows: readonly (readonly unknown[])[];
  readonly rowCount: number | null;
}

/** A `pg` query config: the subset the driver passes. */
export interface PgQueryConfigShape {
  readonly text: string;
  readonly values: readonly unknown[];
  readonly rowMode: 'array';
  readonly types: { getTypeParser(oid: number, format?: string): (value: string) => unknown };
}

/** The stream of a `COPY … FROM STDIN` (pg-copy-streams): written to, it sends CopyData; `rowCount` once finished. */
export interface PgCopyInStreamShape extends Writable {
  readonly rowCount: number;
}

/** pg-copy-streams' `from`: wraps a `COPY … FROM STDIN` statement as a stream a `pg` client runs. */
export type PgCopyFromShape = (sql: string) => PgCopyInStreamShape;

/** A `pg` client checked out of a pool. */
export interface PgPoolClientShape {
  query(config: PgQueryConfigShape): Promise<PgResultShape>;
  /** Runs a COPY stream (pg hands submittable objects to the connection and returns them). */
  query<S extends PgCopyInStreamShape>(stream: S): S;
  release(error?: Error | boolean): void;
  /**
   * A checked-out client emits `error` when its connection drops between statements (the server
   * terminated the backend); with no listener that would crash the process.
   */
  on?(event: 'error', listener: (error: Error) => void): unknown;
  removeListener?(event: 'error', listener: (error: Error) => void): unknown;
}

/** A `pg` Pool (or anything with its `query`/`connect`/`end`). The driver never imports `pg` itself. */
export interface PgPoolShape {
  query(config: PgQueryConfigShape): Promise<PgResultShape>;
  connect(): Promise<PgPoolClientShape>;
  end(): Promise<void>;
  /** pg emits `error` for idle clients whose connection dropped; unhandled, that would crash the process. */
  on?(event: 'error', listener: (error: Error) => void): unknown;
}

/** Every value as the server's text: no client-side parsing (timestamps, int8, bytea, arrays stay text). */
const TEXT_TYPES: PgQueryConfigShape['types'] = { getTypeParser: () => (value: string) => value };

/** Swallows a checked-out client's connection error: its next statement fails with a connection error anyway. */
const ignoreConnectionError = (): void => undefined;

/** Checks a client out of the pool, guarded against connection errors while it is held. */
async function checkOut(pool: PgPoolShape): Promise<PgPoolClientShape> {
  const client = await pool.connect();
  client.on?.('error', ignoreConnectionError);
  return client;
}

/** Returns a client to the pool (`discard`: it is broken and must not be reused). */
function checkIn(client: PgPoolClientShape, discard = false): void {
  client.removeListener?.('error', ignoreConnectionError);
  client.release(discard);
}

/** A parameter as pg should send it: bigints as decimal text (pg stringifies every other kind itself). */
function wireValue(value: CanonicalValue): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

export interface PostgresDriverOptions {
  /** pg-copy-streams' `from`; without it `copyIn` is unavailable and sinks stage with INSERTs. */
  readonly copyFrom?: PgCopyFromShape;
}

/**
 * A tiny PostgreSQL driver over a `pg` Pool handed in by the caller (kysely style: the engine loads
 * no driver package). `query` runs a compiled statement; between `begin` and `commit`/`rollback`
 * every statement runs on the one client that holds the transaction. With pg-copy-streams' `from`
 * it also streams `COPY … FROM STDIN`.
 */
export class PostgresDriver {
  private client?: PgPoolClientShape;
  private readonly copyFrom?: PgCopyFromShape;

  /** @param pool a `pg` Pool; idle-client errors are ignored (the pool discards such clients). */
  constructor(private readonly pool: PgPoolShape, options: PostgresDriverOptions = {}) {
    pool.on?.('error', () => undefined);
    this.copyFrom = options.copyFrom;
  }

  /** True when `copyIn` can run (the driver was given pg-copy-streams' `from`). */
  get canCopy(): boolean {
    return this.copyFrom !== undefined;
  }

  /**
   * Runs `COPY … FROM STDIN` (`sql`) fed with `chunks` of COPY text, on the transaction's client or
   * a client of its own; returns the rows the server counted. A failed COPY fails the statement.
   */
  async copyIn(sql: string, chunks: Iterable<string> | AsyncIterable<string>): Promise<number> {
    if (!this.copyFrom) throw new Error('postgres driver: COPY needs pg-copy-streams (pass copyFrom)');
    const stream = this.copyFrom(sql);
    const own = this.client === undefined;
    const client = this.client ?? await checkOut(this.pool);
    try {
      await pipeline(Readable.from(chunks), client.query(stream));
    } catch (error) {
      // A client left mid-COPY is not reused.
      if (own) checkIn(client, true);
      throw error;
    }
    if (own) checkIn(client);
    return stream.rowCount;
  }

  /** Runs one statement; returns its rows as arrays of server text (null for SQL NULL). */
  async query(statement: SqlStatement): Promise<readonly (readonly unknown[])[]> {
    const config: PgQueryConfigShape = { text: statement.sql, values: statement.params.map(wireValue), rowMode: 'array', types: TEXT_TYPES };
    const result = await (this.client ?? this.pool).query(config);
    return result.rows;
  }

  /** Runs statements in order. */
  async execute(statements: readonly SqlStatement[]): Promise<void> {
    for (const statement of statements) await this.query(statement);
  }

  /** The first column of the first row (a count), or null when there is no row. */
  async scalar(statement: SqlStatement): Promise<unknown> {
    const rows = await this.query(statement);
    return rows[0]?.[0] ?? null;
  }

  /** True while a transaction is open. */
  get inTransaction(): boolean {
    return this.client !== undefined;
  }

  /** Checks out a client and opens a transaction on it (default `BEGIN`); throws when one is already open. */
  async begin(begin: SqlStatement = sqlText('BEGIN')): Promise<void> {
    if (this.client) throw new Error('postgres driver: a transaction is already open');
    const client = await checkOut(this.pool);
    try {
      await client.query({ text: begin.sql, values: [], rowMode: 'array', types: TEXT_TYPES });
    } catch (error) {
      checkIn(client, true);
      throw error;
    }
    this.client = client;
  }

  /** Commits the open transaction (default `COMMIT`) and returns its client to the pool. */
  commit(statement: SqlStatement = sqlText('COMMIT')): Promise<void> {
    return this.end(statement);
  }

  /** Rolls the open transaction back (default `ROLLBACK`) and returns its client to the pool. */
  rollback(statement: SqlStatement = sqlText('ROLLBACK')): Promise<void> {
    return this.end(statement);
  }

  private async end(statement: SqlStatement): Promise<void> {
    const client = this.client;
    if (!client) throw new Error(`postgres driver: ${statement.sql} without an open transaction`);
    this.client = undefined;
    try {
      await client.query({ text: statement.sql, values: [], rowMode: 'array', types: TEXT_TYPES });
      checkIn(client);
    } catch (error) {
      // A client whose COMMIT or ROLLBACK failed is not reused.
      checkIn(client, true);
      throw error;
    }
  }

  /** Closes the pool (rolling back an open transaction first; the pool is closed even when that fails). */
  async close(): Promise<void> {
    try {
      if (this.client) await this.rollback();
    } finally {
      await this.pool.end();
    }
  }
}
