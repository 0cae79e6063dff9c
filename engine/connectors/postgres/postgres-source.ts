import type { CanonicalValue, ColumnDef, Row, TableSchema } from '../../schema/index.ts';
import { columnIndex } from '../../schema/index.ts';
import type { ChangeRecord, KeyValue, RowPredicate, TargetSpec } from '../../plan/index.ts';
import { keyOf } from '../../plan/index.ts';
import type { LoadState } from '../../state/index.ts';
import { lsnAfter } from '../../state/index.ts';
import type { LoadNames, QualifiedName } from '../../sql/names.ts';
import { loadNames, siblingName } from '../../sql/names.ts';
import { sqlText } from '../../sql/sql-statement.ts';
import type { ChangeRead, SnapshotRead, Source, SourceCapabilities, XminRead } from '../source.ts';
import { JournaledTable, journalTarget, transactionally, watermarkCursor } from '../sql-source-support.ts';
import { copyRows } from './postgres-copy.ts';
import { PostgresDialect } from './postgres-dialect.ts';
import type { PostgresDriver } from './postgres-driver.ts';

/**
 * A PostgreSQL source table: snapshot, watermark, xmin and logical-decoding (CDC) reads.
 *
 * Contract of the table (what `seedPostgresSource` builds, and what a production table must offer):
 *
 * - **The table** holds the schema's columns (the dialect's plain target shape, primary key on the
 *   schema key) with `REPLICA IDENTITY FULL`, so that logical decoding logs the whole before image
 *   of updates and deletes.
 * - **The journal** `<table>__dpone_journal` has one row per key ever present: the key, the change
 *   time it was inserted at (`dpone_inserted_at`), and, once deleted, the deletion time
 *   (`dpone_deleted_at`) with the row's before image in the other (nullable) columns. The writer of
 *   the table maintains it in the transaction of each write (here: the seeding helper; in
 *   production a trigger would). A watermark read needs it twice over: a physical DELETE leaves no
 *   row to find by `updated_at`, and a live row alone cannot tell an insert from an update.
 * - **The watermark column** (`updated_at`) is set by every insert and update to the change time.
 *
 * Reads and their positions:
 *
 * - Snapshot, watermark and xmin reads run in one REPEATABLE READ READ ONLY transaction each, so the
 *   rows and the cursor come from the same snapshot. The source therefore needs a driver of its own
 *   (not the sink's, whose transaction may be open).
 * - `xmin` positions are 32-bit transaction ids (`xmin::text::bigint`, and the snapshot's xmin
 *   modulo 2^32): after a transaction-id wraparound (2^32 transactions) the comparison is wrong and
 *   the pipeline must reload a snapshot. The xmin cursor is "every transaction before the read's
 *   snapshot xmin has finished" (snapshot xmin − 1), not the largest xmin seen: a transaction still
 *   in progress with a smaller id than a visible row would otherwise be skipped for ever. Rows of
 *   transactions between snapshot xmin and xmax may be read twice, which merges tolerate.
 * - Watermark reads return the latest state of each key changed after the watermark, in commit
 *   (transaction id) order: a key inserted then updated after the watermark yields one change (its
 *   last), where an in-memory change log would list both. Ops: `I` when the journal's insert time is
 *   after the watermark, `D` from the journal's deletions, else `U`. Without a watermark every
 *   current row is a change.
 * - CDC reads peek the logical replication slot (`test_decoding`, created by `createCdcSlot` before
 *   the first change to capture) up to the WAL position at the start of the read. Each change's
 *   position is its own LSN; the cursor is the end LSN of the last transaction decoded, so that
 *   `acknowledge` (called by the lifecycle after the sink committed) can advance the slot past it.
 *   A delete's `at` is its deletion time from the journal (decoding carries no change time).
 */
export interface PostgresSourceOptions {
  readonly table: QualifiedName;
  readonly schema: TableSchema;
  /** Column holding the change time; default `updated_at`. */
  readonly watermarkColumn?: string;
  /** Logical replication slot of CDC reads; default `dpone_<table>`. */
  readonly slot?: string;
  /**
   * The instant snapshots stand for (UTC micros). SCD2 closes versions at this instant, so the test
   * oracle needs the fixture's `snapshotAt` exactly; without it the server's `now()` is used.
   */
  readonly asOf?: number;
  readonly family?: string;
  readonly capabilities?: SourceCapabilities;
  readonly dialect?: PostgresDialect;
}

const XID_MODULUS = '4294967296';
const DECODE_ROWS_PER_QUERY = 200;
const READ_ONLY = sqlText('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');

/** One row image of a decoded change: column name → the server's text (null for SQL NULL). */
type DecodedTuple = Map<string, string | null>;

interface DecodedChange {
  readonly op: 'I' | 'U' | 'D';
  readonly lsn: string;
  readonly tuple: DecodedTuple;
}

/** `unchanged-toast-datum`: an UPDATE's new tuple did not log a toasted value it did not change. */
const UNCHANGED_TOAST = Symbol('unchanged-toast-datum');

/**
 * Parses the tuple part of a test_decoding line: `name[type]:value …`, values quoted ('' escapes a
 * quote), `B'…'` for bit strings, bare for numbers and booleans, `null`, `unchanged-toast-datum`.
 * Old tuples (a DELETE's, an UPDATE's `old-key:`) omit NULL columns altogether.
 * Returns the tuple and the rest of the text (an UPDATE's `new-tuple:` part follows `old-key:`).
 */
export function parseDecodedTuple(text: string, start = 0, stopAt?: string): { tuple: Map<string, string | null | typeof UNCHANGED_TOAST>; end: number } {
  const tuple = new Map<string, string | null | typeof UNCHANGED_TOAST>();
  let i = start;
  const skipSpaces = () => { while (text[i] === ' ') i++; };
  skipSpaces();
  while (i < text.length) {
    if (stopAt !== undefined && text.startsWith(stopAt, i)) break;
    // Column name: an identifier, double-quoted when quote_identifier needed it.
    let name: string;
    if (text[i] === '"') {
      let j = i + 1;
      name = '';
      for (;;) {
        if (j >= text.length) throw new Error(`test_decoding: unterminated column name in ${text}`);
        if (text[j] === '"') {
          if (text[j + 1] === '"') { name += '"'; j += 2; continue; }
          break;
        }
        name += text[j];
        j++;
      }
      i = j + 1;
    } else {
      const open = text.indexOf('[', i);
      if (open < 0) throw new Error(`test_decoding: no type after column at ${i} in ${text}`);
      name = text.slice(i, open);
      i = open;
    }
    if (text[i] !== '[') throw new Error(`test_decoding: expected [type] after ${name}`);
    const typeEnd = text.indexOf(']:', i);
    if (typeEnd < 0) throw new Error(`test_decoding: unterminated type of ${name}`);
    i = typeEnd + 2;
    let value: string | null | typeof UNCHANGED_TOAST;
    if (text[i] === '\'' || (text[i] === 'B' && text[i + 1] === '\'')) {
      if (text[i] === 'B') i++;
      let j = i + 1;
      let buffer = '';
      for (;;) {
        if (j >= text.length) throw new Error(`test_decoding: unterminated value of ${name}`);
        const quote = text.indexOf('\'', j);
        if (quote < 0) throw new Error(`test_decoding: unterminated value of ${name}`);
        buffer += text.slice(j, quote);
        if (text[quote + 1] === '\'') { buffer += '\''; j = quote + 2; continue; }
        j = quote + 1;
        break;
      }
      value = buffer;
      i = j;
    } else {
      let j = text.indexOf(' ', i);
      if (j < 0) j = text.length;
      const bare = text.slice(i, j);
      value = bare === 'null' ? null : bare === 'unchanged-toast-datum' ? UNCHANGED_TOAST : bare;
      i = j;
    }
    tuple.set(name, value);
    skipSpaces();
  }
  return { tuple, end: i };
}

/** Parses one test_decoding change line of `prefix` (`table schema.name: `); null for other lines. */
export function parseDecodedChange(line: string, prefix: string, lsn: string): DecodedChange | null {
  if (!line.startsWith(prefix)) return null;
  const rest = line.slice(prefix.length);
  const kinds = [['INSERT: ', 'I'], ['UPDATE: ', 'U'], ['DELETE: ', 'D']] as const;
  const kind = kinds.find(([word]) => rest.startsWith(word));
  if (!kind) return null;
  const body = kind[0].length;
  if (rest.startsWith('(no-tuple-data)', body)) throw new Error(`test_decoding: ${kind[1]} without tuple data: set REPLICA IDENTITY FULL`);
  let old: Map<string, string | null | typeof UNCHANGED_TOAST> | undefined;
  let start = body;
  if (kind[1] === 'U' && rest.startsWith('old-key: ', body)) {
    const parsed = parseDecodedTuple(rest, body + 'old-key: '.length, 'new-tuple: ');
    old = parsed.tuple;
    start = parsed.end;
  }
  if (rest.startsWith('new-tuple: ', start)) start += 'new-tuple: '.length;
  const { tuple } = parseDecodedTuple(rest, start);
  const complete: DecodedTuple = new Map();
  for (const [name, value] of tuple) {
    if (value !== UNCHANGED_TOAST) { complete.set(name, value); continue; }
    // Old tuples leave NULL columns out, but an unchanged toasted value is never NULL.
    const before = old?.get(name);
    if (before === undefined || before === UNCHANGED_TOAST) throw new Error(`test_decoding: unchanged toasted ${name} without a before image: set REPLICA IDENTITY FULL`);
    complete.set(name, before);
  }
  return { op: kind[1], lsn, tuple: complete };
}

/** A Postgres table as a source (see the contract above). */
export class PostgresSource implements Source {
  readonly family: string;
  readonly capabilities: SourceCapabilities;
  readonly schema: TableSchema;
  readonly dialect: PostgresDialect;
  readonly slot: string;
  private readonly table: JournaledTable;

  constructor(private readonly driver: PostgresDriver, private readonly options: PostgresSourceOptions) {
    this.family = options.family ?? 'postgres';
    this.capabilities = options.capabilities ?? { incremental: true, xmin: true, cdc: true };
    this.schema = options.schema;
    this.dialect = options.dialect ?? new PostgresDialect();
    this.slot = options.slot ?? `dpone_${options.table.name}`.toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 63);
    this.table = new JournaledTable(this.dialect, 'postgres source', options.table, options.schema, options);
  }

  private get compiler() {
    return this.dialect.compiler;
  }

  /** Runs `read` in a REPEATABLE READ READ ONLY transaction (rows and cursor share one snapshot). */
  private consistent<T>(read: () => Promise<T>): Promise<T> {
    return transactionally(this.driver, () => this.driver.begin(READ_ONLY), read);
  }

  /** Watermark (incl. deletions), xmin horizon and WAL position of the current snapshot. */
  private async head(): Promise<LoadState> {
    const watermark = this.table.q(this.table.watermarkColumn.name);
    const [row] = await this.driver.query(sqlText([
      `SELECT ${this.compiler.readExpression(this.table.watermarkColumn)}, x, l FROM (SELECT GREATEST(`,
      `  (SELECT max(${watermark}) FROM ${this.table.tableSql}),`,
      `  (SELECT max(${this.table.q(this.table.deletedAt.name)}) FROM ${this.table.journalSql})) AS ${watermark},`,
      `  (pg_snapshot_xmin(pg_current_snapshot())::text::bigint % ${XID_MODULUS}) - 1 AS x,`,
      '  pg_current_wal_lsn()::text AS l) AS h',
    ].join('\n')));
    if (!row) throw new Error('postgres source: no head position');
    return {
      ...(row[0] === null ? {} : { watermark: this.table.watermarkOf(row[0]) }),
      xmin: Number(row[1]),
      lsn: String(row[2]),
    };
  }

  /** The state a load of the table as it is now would commit: call it after seeding the base. */
  async baseCursor(): Promise<LoadState> {
    return this.consistent(() => this.head());
  }

  /** Creates the CDC slot (test_decoding); must run before the first change that CDC should see. */
  async createCdcSlot(): Promise<void> {
    await this.driver.query({ sql: 'SELECT pg_create_logical_replication_slot($1, \'test_decoding\')', params: [this.slot] });
  }

  /** Drops the CDC slot when it exists (a slot retains WAL until dropped). */
  async dropCdcSlot(): Promise<void> {
    await this.driver.query({ sql: 'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', params: [this.slot] });
  }

  async readSnapshot(filter?: RowPredicate): Promise<SnapshotRead> {
    return this.consistent(async () => {
      const raw = await this.driver.query(this.table.snapshotQuery(filter, 'FALSE'));
      const cursor = await this.head();
      const asOf = this.options.asOf ?? await this.serverNow();
      return { rows: raw.map((row) => this.table.decodeRow(row)), asOf, cursor };
    });
  }

  private async serverNow(): Promise<number> {
    return Number(await this.driver.scalar(sqlText('SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::bigint::text')));
  }

  async readChanges(state: LoadState): Promise<ChangeRead> {
    this.require('incremental');
    return this.consistent(async () => {
      const since = state.watermark;
      const params: CanonicalValue[] = since === undefined ? [] : [since];
      const after = (column: string) => since === undefined ? 'TRUE' : `${this.table.q(column)} > ${this.compiler.bindExpression(1, this.table.watermarkColumn)}`;
      const key = this.table.q(this.schema.key);
      const live = await this.driver.query({
        sql: [
          `SELECT xmin::text::bigint, ${key} IN (SELECT ${key} FROM ${this.table.journalSql} WHERE ${after(this.table.insertedAt.name)}), ${this.table.readList()}`,
          `FROM ${this.table.tableSql}`,
          `WHERE ${after(this.table.watermarkColumn.name)}`,
        ].join('\n'),
        params,
      });
      const gone = await this.driver.query({
        sql: [
          `SELECT xmin::text::bigint, ${this.compiler.readExpression(this.table.deletedAt)}, ${this.table.readList()}`,
          `FROM ${this.table.journalSql}`,
          `WHERE ${this.table.q(this.table.deletedAt.name)} IS NOT NULL AND ${after(this.table.deletedAt.name)}`,
        ].join('\n'),
        params,
      });
      const ordered: { xid: number; change: ChangeRecord }[] = [];
      for (const raw of live) {
        const row = this.table.decodeRow(raw, 2);
        const op = raw[1] === true || raw[1] === 't' || raw[1] === 'true' ? 'I' : 'U';
        const xid = Number(raw[0]);
        ordered.push({ xid, change: this.table.change(op, row, undefined, String(xid)) });
      }
      for (const raw of gone) {
        const xid = Number(raw[0]);
        ordered.push({ xid, change: this.table.change('D', this.table.decodeRow(raw, 2), this.table.watermarkOf(raw[1]), String(xid)) });
      }
      ordered.sort((a, b) => a.xid - b.xid || a.change.at - b.change.at);
      const changes = ordered.map((entry) => entry.change);
      return { changes, cursor: watermarkCursor(changes, state) };
    });
  }

  async readXmin(state: LoadState): Promise<XminRead> {
    this.require('xmin');
    return this.consistent(async () => {
      const since = state.xmin ?? 0;
      const raw = await this.driver.query({
        sql: `SELECT ${this.table.readList()}\nFROM ${this.table.tableSql}\nWHERE xmin::text::bigint > $1::bigint\nORDER BY ${this.table.q(this.schema.key)}`,
        params: [since],
      });
      const keyColumn = this.table.keyColumn;
      const keyRows = await this.driver.query(sqlText(`SELECT ${this.compiler.readExpression(keyColumn)}\nFROM ${this.table.tableSql}\nORDER BY ${this.table.q(keyColumn.name)}`));
      const keys: KeyValue[] = keyRows.map((row) => keyOf(this.table.decodeRow(row, 0, [keyColumn]), 0));
      const head = await this.head();
      return { rows: raw.map((row) => this.table.decodeRow(row)), keys, cursor: { xmin: Math.max(since, head.xmin ?? 0) } };
    });
  }

  async readCdc(state: LoadState): Promise<ChangeRead> {
    this.require('cdc');
    const lines = await this.driver.query({
      sql: 'SELECT lsn::text, data FROM pg_logical_slot_peek_changes($1, pg_current_wal_flush_lsn(), NULL)',
      params: [this.slot],
    });
    const prefix = `table ${this.qualifiedForDecoding()}: `;
    const decoded: DecodedChange[] = [];
    let lastCommit: string | undefined;
    for (const [lsn, data] of lines) {
      const text = String(data);
      if (text.startsWith('COMMIT')) { lastCommit = String(lsn); continue; }
      const change = parseDecodedChange(text, prefix, String(lsn));
      if (change && lsnAfter(change.lsn, state.lsn)) decoded.push(change);
    }
    const rows = await this.decodeTuples(decoded);
    const deletedAt = await this.table.deletionTimes(this.driver, decoded.flatMap((change, index) => change.op === 'D' ? [keyOf(rows[index] as Row, this.table.keyIndex)] : []));
    const changes = decoded.map((change, index): ChangeRecord => {
      const row = rows[index] as Row;
      const at = change.op === 'D' ? deletedAt.get(keyOf(row, this.table.keyIndex)) : undefined;
      return this.table.change(change.op, row, at, change.lsn);
    });
    const end = lastCommit !== undefined && lsnAfter(lastCommit, state.lsn) ? lastCommit : state.lsn;
    return { changes, cursor: end === undefined ? {} : { lsn: end } };
  }

  /** Advances the CDC slot to the committed LSN (after the sink commit); a no-op without one. */
  async acknowledge(state: LoadState): Promise<void> {
    if (!this.capabilities.cdc || state.lsn === undefined) return;
    const [row] = await this.driver.query({ sql: 'SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1', params: [this.slot] });
    if (!row) return;
    if (row[0] !== null && !lsnAfter(state.lsn, String(row[0]))) return;
    await this.driver.query({ sql: 'SELECT pg_replication_slot_advance($1, $2::pg_lsn)', params: [this.slot, state.lsn] });
  }

  async close(): Promise<void> {
    await this.driver.close();
  }

  /** `schema.name` as test_decoding prints it (quote_identifier of each part). */
  private qualifiedForDecoding(): string {
    const ident = (name: string) => /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
    return `${ident(this.table.name.schema ?? 'public')}.${ident(this.table.name.name)}`;
  }

  /**
   * Server text of decoded tuples → canonical rows: the text is cast back to each column's type on
   * the server and read through the dialect's read expressions, like any other read.
   */
  private async decodeTuples(changes: readonly DecodedChange[]): Promise<Row[]> {
    const columns = this.schema.columns;
    const rows: Row[] = [];
    for (let start = 0; start < changes.length; start += DECODE_ROWS_PER_QUERY) {
      const chunk = changes.slice(start, start + DECODE_ROWS_PER_QUERY);
      const params: (string | null)[] = [];
      const values = chunk.map(({ op, tuple }, r) => `(${r}, ${columns.map((column) => {
        // test_decoding leaves NULL columns out of old tuples (a DELETE's before image).
        const text = tuple.has(column.name) ? tuple.get(column.name) : op === 'D' ? null : undefined;
        if (text === undefined) throw new Error(`postgres source: decoded ${op} without column ${column.name}`);
        params.push(text);
        return `CAST($${params.length}::text AS ${this.dialect.columnType(column.family)})`;
      }).join(', ')})`);
      const names = ['dpone_ord', ...columns.map((column) => column.name)].map((name) => this.table.q(name)).join(', ');
      const raw = await this.driver.query({
        sql: `SELECT ${this.table.readList()}\nFROM (VALUES\n${values.join(',\n')}) AS v(${names})\nORDER BY ${this.table.q('dpone_ord')}`,
        params,
      });
      rows.push(...raw.map((row) => this.table.decodeRow(row)));
    }
    return rows;
  }

  private require(capability: keyof SourceCapabilities): void {
    if (!this.capabilities[capability]) throw new Error(`source ${this.family} does not support ${capability} extraction`);
  }
}

/** The fixture data a seeding needs (a `SourceFixture` has it). */
export interface PostgresSeedData {
  readonly schema: TableSchema;
  readonly before: readonly Row[];
  readonly changes: readonly ChangeRecord[];
}

const SEED_ROWS_PER_INSERT = 100;
const CHANGES_SUFFIX = 'dpone_changes';
const CHANGE_ORDINAL = 'dpone_ord';
const CHANGE_OP = 'dpone_op';
const CHANGE_AT = 'dpone_at';
/**
 * Seeding commits are flushed before they return: logical decoding only sees flushed WAL, and a
 * server with `synchronous_commit=off` (the embedded test server) would otherwise hide the newest
 * changes from a CDC read for up to `wal_writer_delay`. Flushing the last commit flushes all before it.
 */
const DURABLE_COMMIT = sqlText('SET LOCAL synchronous_commit = on');

/** Rows into `table`: COPY when the driver can, else multi-row INSERTs binding each value through the dialect. */
async function writeRows(driver: PostgresDriver, dialect: PostgresDialect, table: QualifiedName, columns: readonly ColumnDef[], rows: readonly Row[]): Promise<void> {
  if (driver.canCopy) {
    await copyRows(driver, dialect, table, columns, rows);
    return;
  }
  const list = columns.map((column) => dialect.quote(column.name)).join(', ');
  for (let start = 0; start < rows.length; start += SEED_ROWS_PER_INSERT) {
    const chunk = rows.slice(start, start + SEED_ROWS_PER_INSERT);
    const values = chunk.map((_row, r) => `(${columns.map((column, c) => dialect.compiler.bindExpression(r * columns.length + c + 1, column)).join(', ')})`);
    await driver.query({ sql: `INSERT INTO ${dialect.qualified(table)} (${list}) VALUES\n${values.join(',\n')}`, params: chunk.flat() });
  }
}

/** Runs `work` in one transaction of the driver, flushed at commit. */
function durably(driver: PostgresDriver, work: () => Promise<void>): Promise<void> {
  return transactionally(driver, () => driver.begin(), async () => {
    await work();
    await driver.query(DURABLE_COMMIT);
  });
}

/**
 * Builds a source table from a fixture: creates the table (plain shape, REPLICA IDENTITY FULL) and
 * its journal, loads the base rows (one transaction), creates the CDC slot, then applies every
 * change as a real INSERT/UPDATE/DELETE in commit order, each in its own transaction (one xid per
 * change) together with its journal write. The changes are first written to a side table and then
 * applied by one server-side loop that commits after each change, so a delta costs a few round
 * trips instead of several per change. `afterBase` runs between the base load and the delta (e.g. to
 * take the base cursor). Base rows and changes go in by COPY when the driver can COPY. Returns the source.
 */
export async function seedPostgresSource(
  driver: PostgresDriver, table: QualifiedName, fixture: PostgresSeedData,
  options: Omit<PostgresSourceOptions, 'table' | 'schema'> & { afterBase?: (source: PostgresSource) => Promise<void> } = {},
): Promise<PostgresSource> {
  const source = new PostgresSource(driver, { ...options, table, schema: fixture.schema });
  const dialect = source.dialect;
  const compiler = dialect.compiler;
  const schema = fixture.schema;
  const columns = schema.columns;
  const names = loadNames(table.name, '__dpone__none', table.schema === undefined ? {} : { schema: table.schema });
  const journal = journalTarget(table, schema);
  const journalName: QualifiedName = { ...table, name: journal.name };
  await driver.execute(compiler.createTarget({ name: table.name, dataSchema: schema, shape: 'plain' }, names));
  await driver.execute(compiler.createTarget(journal, { ...names, target: journalName }));
  await driver.query(sqlText(`ALTER TABLE ${dialect.qualified(table)} REPLICA IDENTITY FULL`));

  const key = columns[columnIndex(schema, schema.key)] as ColumnDef;
  const watermark = columns[columnIndex(schema, options.watermarkColumn ?? 'updated_at')] as ColumnDef;
  const insertedAt = journal.dataSchema.columns[1] as ColumnDef;
  const keyIndex = columnIndex(schema, schema.key);
  const watermarkIndex = columnIndex(schema, watermark.name);

  await durably(driver, async () => {
    await writeRows(driver, dialect, table, columns, fixture.before);
    await writeRows(driver, dialect, journalName, [key, insertedAt], fixture.before.map((row) => [row[keyIndex] ?? null, row[watermarkIndex] ?? null]));
  });
  await source.createCdcSlot();
  await options.afterBase?.(source);
  if (fixture.changes.length > 0) await applyChanges(driver, dialect, table, schema, journal, fixture.changes, names);
  return source;
}

/**
 * Writes the changes to `<table>__dpone_changes` (ordinal, op, change time, then the row), applies
 * them in a DO block that commits after each one (a new transaction, so a new xid, per change), and
 * drops the side table. The block's last transaction is flushed (see DURABLE_COMMIT).
 */
async function applyChanges(
  driver: PostgresDriver, dialect: PostgresDialect, table: QualifiedName, schema: TableSchema, journal: TargetSpec,
  changes: readonly ChangeRecord[], names: LoadNames,
): Promise<void> {
  const q = (name: string) => dialect.quote(name);
  const [key, insertedAt, deletedAt] = journal.dataSchema.columns as [ColumnDef, ColumnDef, ColumnDef];
  const rest = schema.columns.filter((column) => column.name !== schema.key);
  const changeColumns: ColumnDef[] = [
    { name: CHANGE_ORDINAL, family: 'integer', nullable: false },
    { name: CHANGE_OP, family: 'char', nullable: false },
    { name: CHANGE_AT, family: insertedAt.family, nullable: false },
    ...schema.columns.map((column) => ({ ...column, nullable: true })),
  ];
  const changesTable = siblingName(table, CHANGES_SUFFIX);
  const changesSpec: TargetSpec = { name: changesTable.name, dataSchema: { columns: changeColumns, key: CHANGE_ORDINAL }, shape: 'plain' };
  await driver.execute(dialect.compiler.createTarget(changesSpec, { ...names, target: changesTable }));
  await writeRows(driver, dialect, changesTable, changeColumns, changes.map((change, index) => [index, change.op, change.at, ...change.row]));

  const tableSql = dialect.qualified(table);
  const journalSql = dialect.qualified({ ...table, name: journal.name });
  const field = (column: ColumnDef) => `dpone_change.${q(column.name)}`;
  const list = (of: readonly ColumnDef[]) => of.map((column) => q(column.name)).join(', ');
  const keyMatch = `${q(key.name)} = ${field(key)}`;
  await driver.query(sqlText([
    'DO $dpone$',
    'DECLARE',
    '  dpone_change record;',
    `  dpone_last integer := (SELECT max(${q(CHANGE_ORDINAL)}) FROM ${dialect.qualified(changesTable)});`,
    'BEGIN',
    `  FOR dpone_change IN SELECT * FROM ${dialect.qualified(changesTable)} ORDER BY ${q(CHANGE_ORDINAL)} LOOP`,
    `    IF dpone_change.${q(CHANGE_OP)} = 'I' THEN`,
    `      INSERT INTO ${tableSql} (${list(schema.columns)}) VALUES (${schema.columns.map(field).join(', ')});`,
    `      INSERT INTO ${journalSql} (${q(key.name)}, ${q(insertedAt.name)}) VALUES (${field(key)}, dpone_change.${q(CHANGE_AT)})`,
    `        ON CONFLICT (${q(key.name)}) DO UPDATE SET ${q(insertedAt.name)} = EXCLUDED.${q(insertedAt.name)}, ${q(deletedAt.name)} = NULL,`,
    `        ${rest.map((column) => `${q(column.name)} = NULL`).join(', ')};`,
    `    ELSIF dpone_change.${q(CHANGE_OP)} = 'U' THEN`,
    `      UPDATE ${tableSql} SET ${rest.map((column) => `${q(column.name)} = ${field(column)}`).join(', ')} WHERE ${keyMatch};`,
    '    ELSE',
    // The before image is taken from the deleted row itself.
    `      WITH gone AS (DELETE FROM ${tableSql} WHERE ${keyMatch} RETURNING *)`,
    `      UPDATE ${journalSql} AS j SET ${q(deletedAt.name)} = dpone_change.${q(CHANGE_AT)},`,
    `        ${rest.map((column) => `${q(column.name)} = gone.${q(column.name)}`).join(', ')}`,
    `        FROM gone WHERE j.${q(key.name)} = gone.${q(key.name)};`,
    '    END IF;',
    `    IF dpone_change.${q(CHANGE_ORDINAL)} = dpone_last THEN PERFORM set_config('synchronous_commit', 'on', true); END IF;`,
    '    COMMIT;',
    '  END LOOP;',
    'END',
    '$dpone$',
  ].join('\n')));
  await driver.query(sqlText(`DROP TABLE ${dialect.qualified(changesTable)}`));
}
