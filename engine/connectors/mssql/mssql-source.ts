import type { CanonicalValue, ColumnDef, Row, TableSchema } from '../../schema/index.ts';
import { columnIndex } from '../../schema/index.ts';
import type { ChangeOp, ChangeRecord, RowPredicate } from '../../plan/index.ts';
import { keyOf } from '../../plan/index.ts';
import type { LoadState } from '../../state/index.ts';
import type { QualifiedName } from '../../sql/names.ts';
import { loadNames } from '../../sql/names.ts';
import { sqlText } from '../../sql/sql-statement.ts';
import type { ChangeRead, SnapshotRead, Source, SourceCapabilities, XminRead } from '../source.ts';
import { byChangeTimeThenKey, JournaledTable, journalTarget, transactionally, watermarkCursor } from '../sql-source-support.ts';
import { bulkInsert } from './mssql-bulk.ts';
import { MssqlDialect } from './mssql-dialect.ts';
import type { MssqlDriver } from './mssql-driver.ts';

/**
 * A SQL Server source table: snapshot, watermark and CDC reads.
 *
 * Contract of the table (what `seedMssqlSource` builds, and what a production table must offer):
 *
 * - **The table** holds the schema's columns (the dialect's plain target shape, primary key on the
 *   schema key), with change data capture enabled on it (`sys.sp_cdc_enable_table`, capture
 *   instance `<schema>_<table>` unless named) and SQL Server Agent running its capture job.
 * - **The journal** `<table>__dpone_journal` (the same contract as the Postgres source's): one row
 *   per key ever present with its insert time, and once deleted its deletion time and before image.
 *   Watermark reads need it (a DELETE leaves no row to find by `updated_at`); CDC reads take a
 *   delete's change time from it (the change tables carry no time per change).
 * - **The watermark column** (`updated_at`) is set by every insert and update to the change time.
 *
 * Reads and their positions:
 *
 * - Snapshot and watermark reads run in one SNAPSHOT-isolation transaction each (the database needs
 *   `ALLOW_SNAPSHOT_ISOLATION ON`), so rows and cursor come from one snapshot. The source therefore
 *   needs a driver of its own (not the sink's, whose transaction may be open).
 * - Watermark reads return the latest state of each key changed after the watermark, in change-time
 *   order: `I` when the journal's insert time is after the watermark, `D` from its deletions, else `U`.
 * - CDC reads fix `sys.fn_cdc_get_max_lsn()` first: the capture job fills the change tables
 *   asynchronously, and everything up to that LSN is in them. Changes come from
 *   `cdc.fn_cdc_get_all_changes_<capture instance>(@from, @to, N'all')` with `@from` the LSN after the
 *   state's (`sys.fn_cdc_increment_lsn`) or, without state, the capture instance's minimum, in
 *   `__$start_lsn, __$seqval` order; `__$operation` 1 is a delete, 2 an insert, 4 an update's after
 *   image (3, the before image, is not returned with `all` and skipped if it were). LSNs are kept as
 *   `0x` + 20 hex digits; the cursor is `@to`, so a read that found nothing still moves past
 *   changes of other tables.
 */
export interface MssqlSourceOptions {
  readonly table: QualifiedName;
  readonly schema: TableSchema;
  /** Column holding the change time; default `updated_at`. */
  readonly watermarkColumn?: string;
  /** CDC capture instance; default `<schema>_<table>` (SQL Server's own default, schema `dbo` when none). */
  readonly captureInstance?: string;
  /**
   * The instant snapshots stand for (UTC micros). SCD2 closes versions at this instant, so the test
   * oracle needs the fixture's `snapshotAt` exactly; without it the server's UTC time is used.
   */
  readonly asOf?: number;
  readonly family?: string;
  readonly capabilities?: SourceCapabilities;
  readonly dialect?: MssqlDialect;
}

/** `binary(10)` LSN as text (CONVERT style 1): `0x` and 20 upper-case hex digits. */
const LSN_TEXT = /^0x[0-9A-F]{20}$/;
const lsnText = (expression: string) => `CONVERT(varchar(22), ${expression}, 1)`;
const lsnValue = (placeholder: string) => `CONVERT(binary(10), ${placeholder}, 1)`;

/** A SQL Server LSN from text: `0x` + 20 hex digits, upper-cased; throws on anything else. */
export function mssqlLsn(text: string): string {
  const lsn = `0x${text.replace(/^0x/i, '').toUpperCase()}`;
  if (!LSN_TEXT.test(lsn)) throw new Error(`not a SQL Server LSN (0x + 20 hex digits): ${text}`);
  return lsn;
}

/** Orders two LSNs (fixed-width hex: text order is LSN order). */
export function compareMssqlLsn(a: string, b: string): number {
  const left = mssqlLsn(a);
  const right = mssqlLsn(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

/** `__$operation` of `fn_cdc_get_all_changes_*`: the change op, or null for an update's before image. */
export function cdcOperation(code: unknown): ChangeOp | null {
  switch (Number(code)) {
    case 1: return 'D';
    case 2: return 'I';
    case 3: return null;
    case 4: return 'U';
    default: throw new Error(`cdc: unknown __$operation ${String(code)}`);
  }
}

const ZERO_LSN = `0x${'0'.repeat(20)}`;

/** A SQL Server table as a source (see the contract above). */
export class MssqlSource implements Source {
  readonly family: string;
  readonly capabilities: SourceCapabilities;
  readonly schema: TableSchema;
  readonly dialect: MssqlDialect;
  readonly captureInstance: string;
  private readonly table: JournaledTable;

  constructor(private readonly driver: MssqlDriver, private readonly options: MssqlSourceOptions) {
    this.family = options.family ?? 'mssql';
    this.capabilities = options.capabilities ?? { incremental: true, xmin: false, cdc: true };
    this.schema = options.schema;
    this.dialect = options.dialect ?? new MssqlDialect();
    this.captureInstance = options.captureInstance ?? `${options.table.schema ?? 'dbo'}_${options.table.name}`;
    this.table = new JournaledTable(this.dialect, 'mssql source', options.table, options.schema, options);
  }

  private get compiler() {
    return this.dialect.compiler;
  }

  /** Runs `read` in a SNAPSHOT transaction (rows and cursor share one snapshot). */
  private consistent<T>(read: () => Promise<T>): Promise<T> {
    return transactionally(this.driver, () => this.driver.begin('snapshot'), read);
  }

  /** Watermark (deletions included) and the CDC max LSN of the current snapshot. */
  private async head(): Promise<LoadState> {
    const watermark = this.table.q(this.table.watermarkColumn.name);
    const [row] = await this.driver.query(sqlText([
      `SELECT ${this.compiler.readExpression(this.table.watermarkColumn)}, ${lsnText('sys.fn_cdc_get_max_lsn()')}`,
      `FROM (SELECT MAX(v) AS ${watermark} FROM (VALUES`,
      `  ((SELECT MAX(${watermark}) FROM ${this.table.tableSql})),`,
      `  ((SELECT MAX(${this.table.q(this.table.deletedAt.name)}) FROM ${this.table.journalSql}))) AS x(v)) AS h`,
    ].join('\n')));
    if (!row) throw new Error('mssql source: no head position');
    return {
      ...(row[0] === null ? {} : { watermark: this.table.watermarkOf(row[0]) }),
      ...(row[1] === null ? {} : { lsn: mssqlLsn(String(row[1])) }),
    };
  }

  /** The state a load of the table as it is now would commit: call it after seeding the base. */
  async baseCursor(): Promise<LoadState> {
    return this.consistent(() => this.head());
  }

  async readSnapshot(filter?: RowPredicate): Promise<SnapshotRead> {
    return this.consistent(async () => {
      const raw = await this.driver.query(this.table.snapshotQuery(filter, '1 = 0'));
      const cursor = await this.head();
      const asOf = this.options.asOf ?? Number(await this.driver.scalar(sqlText("SELECT CAST(DATEDIFF_BIG(MICROSECOND, '1970-01-01', SYSUTCDATETIME()) AS varchar(20))")));
      return { rows: raw.map((row) => this.table.decodeRow(row)), asOf, cursor };
    });
  }

  async readChanges(state: LoadState): Promise<ChangeRead> {
    this.require('incremental');
    return this.consistent(async () => {
      const since = state.watermark;
      const params: CanonicalValue[] = since === undefined ? [] : [since];
      const after = (column: string) => since === undefined ? '1 = 1' : `${this.table.q(column)} > ${this.compiler.bindExpression(1, this.table.watermarkColumn)}`;
      const key = this.table.q(this.schema.key);
      const live = await this.driver.query({
        sql: [
          `SELECT CASE WHEN ${key} IN (SELECT ${key} FROM ${this.table.journalSql} WHERE ${after(this.table.insertedAt.name)}) THEN 1 ELSE 0 END, ${this.table.readList()}`,
          `FROM ${this.table.tableSql}`,
          `WHERE ${after(this.table.watermarkColumn.name)}`,
        ].join('\n'),
        params,
      });
      const gone = await this.driver.query({
        sql: [
          `SELECT ${this.compiler.readExpression(this.table.deletedAt)}, ${this.table.readList()}`,
          `FROM ${this.table.journalSql}`,
          `WHERE ${this.table.q(this.table.deletedAt.name)} IS NOT NULL AND ${after(this.table.deletedAt.name)}`,
        ].join('\n'),
        params,
      });
      const changes = [
        ...live.map((raw) => this.table.change(Number(raw[0]) === 1 ? 'I' : 'U', this.table.decodeRow(raw, 1))),
        ...gone.map((raw) => this.table.change('D', this.table.decodeRow(raw, 1), this.table.watermarkOf(raw[0]))),
      ].sort(byChangeTimeThenKey);
      return { changes, cursor: watermarkCursor(changes, state) };
    });
  }

  /** SQL Server has no transaction-id deltas: use CDC or watermarks. */
  async readXmin(_state: LoadState): Promise<XminRead> {
    throw new Error(`source ${this.family} does not support xmin extraction (SQL Server has no row transaction ids)`);
  }

  async readCdc(state: LoadState): Promise<ChangeRead> {
    this.require('cdc');
    const since = state.lsn === undefined ? null : mssqlLsn(state.lsn);
    const [bounds] = await this.driver.query({
      sql: `SELECT ${lsnText('sys.fn_cdc_get_max_lsn()')}, ${lsnText('sys.fn_cdc_get_min_lsn(@p1)')}, ${lsnText(`sys.fn_cdc_increment_lsn(${lsnValue('@p2')})`)}`,
      params: [this.captureInstance, since],
    });
    const [maxText, minText, nextText] = bounds ?? [];
    const min = minText === null || minText === undefined ? ZERO_LSN : mssqlLsn(String(minText));
    if (min === ZERO_LSN || maxText === null || maxText === undefined) {
      throw new Error(`mssql source: capture instance ${this.captureInstance} does not exist or CDC is not enabled on the database`);
    }
    const to = mssqlLsn(String(maxText));
    const from = since === null ? min : mssqlLsn(String(nextText));
    const unchanged: ChangeRead = { changes: [], cursor: since === null ? {} : { lsn: since } };
    if (compareMssqlLsn(from, to) > 0) return unchanged;
    if (compareMssqlLsn(from, min) < 0) {
      throw new Error(`mssql source: CDC position ${String(since)} is older than capture instance ${this.captureInstance}'s minimum LSN ${min}: changes were cleaned up; reload a snapshot`);
    }
    const changesFunction = this.dialect.qualified({ schema: 'cdc', name: `fn_cdc_get_all_changes_${this.captureInstance}` });
    const raw = await this.driver.query({
      sql: [
        `SELECT ${lsnText(this.table.q('__$start_lsn'))}, ${this.table.q('__$operation')}, ${this.table.readList()}`,
        `FROM ${changesFunction}(${lsnValue('@p1')}, ${lsnValue('@p2')}, N'all')`,
        `ORDER BY ${this.table.q('__$start_lsn')}, ${this.table.q('__$seqval')}`,
      ].join('\n'),
      params: [from, to],
    });
    const decoded: { op: ChangeOp; lsn: string; row: Row }[] = [];
    for (const line of raw) {
      const op = cdcOperation(line[1]);
      if (op !== null) decoded.push({ op, lsn: mssqlLsn(String(line[0])), row: this.table.decodeRow(line, 2) });
    }
    const deletedAt = await this.table.deletionTimes(this.driver, decoded.flatMap((change) => change.op === 'D' ? [keyOf(change.row, this.table.keyIndex)] : []));
    const changes = decoded.map(({ op, lsn, row }) => this.table.change(op, row, op === 'D' ? deletedAt.get(keyOf(row, this.table.keyIndex)) : undefined, lsn));
    return { changes, cursor: { lsn: to } };
  }

  async close(): Promise<void> {
    await this.driver.close();
  }

  private require(capability: keyof SourceCapabilities): void {
    if (!this.capabilities[capability]) throw new Error(`source ${this.family} does not support ${capability} extraction`);
  }
}

/** The fixture data a seeding needs (a `SourceFixture` has it). */
export interface MssqlSeedData {
  readonly schema: TableSchema;
  readonly before: readonly Row[];
  readonly changes: readonly ChangeRecord[];
}

export interface MssqlSeedOptions extends Omit<MssqlSourceOptions, 'table' | 'schema'> {
  /** Runs between the base load (captured) and the delta, e.g. to take the base cursor. */
  readonly afterBase?: (source: MssqlSource) => Promise<void>;
  /** How long to wait for the capture job to harvest the seeded changes; default 120 s. */
  readonly captureTimeoutMs?: number;
}

const CAPTURE_POLL_MS = 250;

/**
 * Builds a CDC-enabled source table from a fixture: turns on snapshot isolation and CDC for the
 * database, creates the table (plain shape) and its journal, enables CDC on the table, bulk-loads
 * the base rows (one transaction, journal included), waits for the capture job, runs `afterBase`,
 * then applies every change as a real INSERT/UPDATE/DELETE in commit order, one transaction each
 * with its journal write, and waits for the capture job again. Returns the source.
 *
 * Why the waits: the capture job (a SQL Server Agent job, polling every 5 s by default) copies
 * committed changes from the log into the change table asynchronously, and
 * `sys.fn_cdc_get_max_lsn()` only moves once it has. A base cursor taken earlier would stand before
 * some base inserts, and the first CDC read would replay them as changes. So the helper polls until
 * the change table holds every change written so far (one row per inserted, updated or deleted row,
 * ignoring update before-images), takes the LSN of the last of them, and waits until the max LSN
 * has reached it.
 */
export async function seedMssqlSource(driver: MssqlDriver, table: QualifiedName, fixture: MssqlSeedData, options: MssqlSeedOptions = {}): Promise<MssqlSource> {
  const source = new MssqlSource(driver, { ...options, table, schema: fixture.schema });
  const { dialect, captureInstance } = source;
  const compiler = dialect.compiler;
  const schema = fixture.schema;
  const columns = schema.columns;
  const q = (name: string) => dialect.quote(name);
  const names = loadNames(table.name, '__dpone__none', table.schema === undefined ? {} : { schema: table.schema });
  const journal = journalTarget(table, schema);
  const journalName: QualifiedName = { ...table, name: journal.name };
  const key = columns[columnIndex(schema, schema.key)] as ColumnDef;
  const watermark = columns[columnIndex(schema, options.watermarkColumn ?? 'updated_at')] as ColumnDef;
  const insertedAt = journal.dataSchema.columns[1] as ColumnDef;
  const deletedAt = journal.dataSchema.columns[2] as ColumnDef;
  const rest = columns.filter((column) => column.name !== schema.key);

  await driver.execute([
    sqlText('ALTER DATABASE CURRENT SET ALLOW_SNAPSHOT_ISOLATION ON'),
    sqlText('IF NOT EXISTS (SELECT 1 FROM sys.databases WHERE database_id = DB_ID() AND is_cdc_enabled = 1) EXEC sys.sp_cdc_enable_db'),
    ...compiler.createTarget({ name: table.name, dataSchema: schema, shape: 'plain' }, names),
    ...compiler.createTarget(journal, { ...names, target: journalName }),
    {
      sql: 'EXEC sys.sp_cdc_enable_table @source_schema = @p1, @source_name = @p2, @capture_instance = @p3, @role_name = NULL, @supports_net_changes = 0',
      params: [table.schema ?? 'dbo', table.name, captureInstance],
    },
  ]);

  const inTransaction = (work: () => Promise<void>) => transactionally(driver, () => driver.begin(), work);

  await inTransaction(async () => {
    await bulkInsert(driver, dialect, table, columns, fixture.before);
    await driver.query(sqlText(`INSERT INTO ${dialect.qualified(journalName)} (${q(key.name)}, ${q(insertedAt.name)})\nSELECT ${q(key.name)}, ${q(watermark.name)} FROM ${dialect.qualified(table)}`));
  });
  let written = fixture.before.length;
  await waitForCapture(driver, source, written, options.captureTimeoutMs);
  await options.afterBase?.(source);

  const bind = (index: number, column: ColumnDef) => compiler.bindExpression(index, column);
  for (const change of fixture.changes) {
    if (change.op === 'I') {
      await inTransaction(() => driver.execute([
        { sql: `INSERT INTO ${dialect.qualified(table)} (${columns.map((column) => q(column.name)).join(', ')})\nVALUES (${columns.map((column, i) => bind(i + 1, column)).join(', ')})`, params: [...change.row] },
        {
          sql: `DELETE FROM ${dialect.qualified(journalName)} WHERE ${q(key.name)} = ${bind(1, key)};\nINSERT INTO ${dialect.qualified(journalName)} (${q(key.name)}, ${q(insertedAt.name)}) VALUES (${bind(1, key)}, ${bind(2, insertedAt)})`,
          params: [change.key, change.at],
        },
      ]));
    } else if (change.op === 'U') {
      await inTransaction(() => driver.execute([{
        sql: `UPDATE ${dialect.qualified(table)} SET ${rest.map((column, i) => `${q(column.name)} = ${bind(i + 2, column)}`).join(', ')}\nWHERE ${q(key.name)} = ${bind(1, key)}`,
        params: [change.key, ...rest.map((column) => change.row[columnIndex(schema, column.name)] ?? null)],
      }]));
    } else {
      // The before image is copied from the row itself, on the server, before it goes.
      await inTransaction(() => driver.execute([
        {
          sql: [
            `UPDATE j SET ${q(deletedAt.name)} = ${bind(2, deletedAt)}, ${rest.map((column) => `${q(column.name)} = t.${q(column.name)}`).join(', ')}`,
            `FROM ${dialect.qualified(journalName)} AS j JOIN ${dialect.qualified(table)} AS t ON t.${q(key.name)} = j.${q(key.name)}`,
            `WHERE j.${q(key.name)} = ${bind(1, key)}`,
          ].join('\n'),
          params: [change.key, change.at],
        },
        { sql: `DELETE FROM ${dialect.qualified(table)} WHERE ${q(key.name)} = ${bind(1, key)}`, params: [change.key] },
      ]));
    }
    written++;
  }
  await waitForCapture(driver, source, written, options.captureTimeoutMs);
  return source;
}

/** Polls until the change table holds `expected` changes and the max LSN has reached the last of them. */
async function waitForCapture(driver: MssqlDriver, source: MssqlSource, expected: number, timeoutMs = 120_000): Promise<void> {
  const changeTable = source.dialect.qualified({ schema: 'cdc', name: `${source.captureInstance}_CT` });
  const progress = sqlText([
    `SELECT COUNT(*), ${lsnText(`MAX(${source.dialect.quote('__$start_lsn')})`)}, ${lsnText('sys.fn_cdc_get_max_lsn()')}`,
    `FROM ${changeTable} WHERE ${source.dialect.quote('__$operation')} <> 3`,
  ].join('\n'));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [row] = await driver.query(progress);
    const [captured, last, max] = row ?? [];
    if (Number(captured) >= expected && (expected === 0 || (last !== null && max !== null && compareMssqlLsn(String(max), String(last)) >= 0))) return;
    if (Date.now() > deadline) {
      const seen = `${String(captured)} of ${expected} changes captured, last ${String(last)}, max LSN ${String(max)}`;
      throw new Error(`mssql source: the CDC capture job did not catch up within ${timeoutMs} ms (${seen}): is SQL Server Agent running (MSSQL_AGENT_ENABLED=true)?`);
    }
    await new Promise((resolve) => setTimeout(resolve, CAPTURE_POLL_MS));
  }
}
