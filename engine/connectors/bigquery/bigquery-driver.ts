import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CanonicalValue } from '../../schema/index.ts';
import type { SqlStatement } from '../../sql/sql-statement.ts';

/** A query job of `@google-cloud/bigquery`: its metadata (session info) and its rows. */
export interface BigQueryJobShape {
  readonly metadata?: { readonly statistics?: { readonly sessionInfo?: { readonly sessionId?: string } } };
  getQueryResults(): Promise<[readonly Readonly<Record<string, unknown>>[], ...unknown[]]>;
}

/** The query options the driver passes (named `@pN` parameters with explicit types, a session). */
export interface BigQueryQueryShape {
  readonly query: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly types: Readonly<Record<string, string>>;
  readonly location?: string;
  readonly createSession?: boolean;
  readonly connectionProperties?: readonly { readonly key: 'session_id'; readonly value: string }[];
}

/** A load job's configuration: NDJSON appended to an existing table. */
export interface BigQueryLoadShape {
  readonly sourceFormat: 'NEWLINE_DELIMITED_JSON';
  readonly createDisposition: 'CREATE_NEVER';
  readonly writeDisposition: 'WRITE_APPEND';
  readonly location?: string;
}

/** A `BigQuery` client (or anything with its `createQueryJob` and `dataset().table().load()`). */
export interface BigQueryShape {
  createQueryJob(options: BigQueryQueryShape): Promise<[BigQueryJobShape, ...unknown[]]>;
  dataset(id: string): { table(id: string): { load(source: string, metadata: BigQueryLoadShape): Promise<unknown> } };
}

export interface BigQueryDriverOptions {
  /** Location (region) of the dataset's jobs; default the client's. */
  readonly location?: string;
}

/** The BigQuery type a canonical value is bound as; every bind expression of the dialect casts from it. */
function paramType(value: CanonicalValue): string {
  if (typeof value === 'boolean') return 'BOOL';
  if (typeof value === 'number') return Number.isSafeInteger(value) ? 'INT64' : 'FLOAT64';
  // bigint (timestamps beyond ±2^53 µs), text and NULL travel as STRING.
  return 'STRING';
}

/** Values the client wraps (BigQueryInt, BigQueryDate, …) as their `value`; everything else as is. */
function unwrap(value: unknown): unknown {
  return value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && 'value' in value ? (value as { value: unknown }).value : value;
}

/**
 * A tiny BigQuery driver over a `BigQuery` client handed in by the caller (the engine loads no
 * driver package). Compiled statements bind `@p1…@pN` as named parameters with explicit types.
 * Transactions run in a session: `begin` opens one (on first use) and runs `BEGIN TRANSACTION`
 * in it, and every later query joins the session until `close` aborts it. The fast path for rows is
 * a load job of an NDJSON file (written to a private temp directory, removed afterwards).
 */
export class BigQueryDriver {
  private sessionId?: string;
  private transactionOpen = false;

  constructor(private readonly client: BigQueryShape, private readonly options: BigQueryDriverOptions = {}) {}

  /** Runs one statement (in the session, once there is one); returns its rows as arrays in column order. */
  async query(statement: SqlStatement, createSession = false): Promise<readonly (readonly unknown[])[]> {
    const params: Record<string, unknown> = {};
    const types: Record<string, string> = {};
    statement.params.forEach((value, index) => {
      params[`p${index + 1}`] = typeof value === 'bigint' ? value.toString() : value;
      types[`p${index + 1}`] = paramType(value);
    });
    const [job] = await this.client.createQueryJob({
      query: statement.sql, params, types,
      ...(this.options.location === undefined ? {} : { location: this.options.location }),
      ...(createSession ? { createSession: true } : {}),
      ...(this.sessionId === undefined ? {} : { connectionProperties: [{ key: 'session_id', value: this.sessionId }] }),
    });
    if (createSession) {
      const sessionId = job.metadata?.statistics?.sessionInfo?.sessionId;
      if (!sessionId) throw new Error('bigquery driver: the job created no session');
      this.sessionId = sessionId;
    }
    const [rows] = await job.getQueryResults();
    return rows.map((row) => Object.values(row).map(unwrap));
  }

  async execute(statements: readonly SqlStatement[]): Promise<void> {
    for (const statement of statements) await this.query(statement);
  }

  /** The first column of the first row (a count), or null when there is no row. */
  async scalar(statement: SqlStatement): Promise<unknown> {
    const rows = await this.query(statement);
    return rows[0]?.[0] ?? null;
  }

  get inTransaction(): boolean {
    return this.transactionOpen;
  }

  /** Runs `begin` (`BEGIN TRANSACTION`) in the driver's session, creating the session on first use. */
  async begin(begin: SqlStatement): Promise<void> {
    if (this.transactionOpen) throw new Error('bigquery driver: a transaction is already open');
    await this.query(begin, this.sessionId === undefined);
    this.transactionOpen = true;
  }

  async commit(commit: SqlStatement): Promise<void> {
    this.end('commit');
    await this.query(commit);
  }

  async rollback(rollback: SqlStatement): Promise<void> {
    this.end('rollback');
    await this.query(rollback);
  }

  /**
   * Appends rows (objects keyed by column name, values already JSON-ready) to `dataset.table` with one
   * load job of an NDJSON file.
   */
  async loadNdjson(dataset: string, table: string, rows: readonly Readonly<Record<string, unknown>>[]): Promise<void> {
    const directory = await mkdtemp(join(tmpdir(), 'dpone-bq-'));
    try {
      const file = join(directory, 'rows.ndjson');
      await writeFile(file, rows.map((row) => JSON.stringify(row)).join('\n'), { mode: 0o600 });
      await this.client.dataset(dataset).table(table).load(file, {
        sourceFormat: 'NEWLINE_DELIMITED_JSON', createDisposition: 'CREATE_NEVER', writeDisposition: 'WRITE_APPEND',
        ...(this.options.location === undefined ? {} : { location: this.options.location }),
      });
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }

  /** Ends the session (an open transaction in it is rolled back with it). */
  async close(): Promise<void> {
    if (this.sessionId === undefined) return;
    try {
      await this.query({ sql: 'CALL BQ.ABORT_SESSION()', params: [] });
    } finally {
      this.sessionId = undefined;
      this.transactionOpen = false;
    }
  }

  private end(action: string): void {
    if (!this.transactionOpen) throw new Error(`bigquery driver: ${action} without an open transaction`);
    this.transactionOpen = false;
  }
}
