import type { CanonicalValue, ColumnDef, Row, TableSchema } from '../../schema/index.ts';
import { columnIndex } from '../../schema/index.ts';
import type { ChangeRecord, KeyValue, RowPredicate } from '../../plan/index.ts';
import { keyOf } from '../../plan/index.ts';
import type { LoadState } from '../../state/index.ts';
import type { QualifiedName } from '../../sql/names.ts';
import { loadNames } from '../../sql/names.ts';
import type { SqlStatement } from '../../sql/sql-statement.ts';
import { sqlText } from '../../sql/sql-statement.ts';
import type { ChangeRead, SnapshotRead, Source, SourceCapabilities, XminRead } from '../source.ts';
import { byChangeTimeThenKey, JournaledTable, journalTarget, watermarkCursor } from '../sql-source-support.ts';
import { ClickHouseDialect } from './clickhouse-dialect.ts';
import type { ClickHouseDriver } from './clickhouse-driver.ts';
import { insertCanonicalRows } from './clickhouse-native-insert.ts';

/**
 * A ClickHouse source table: snapshot and watermark reads (no xmin, no CDC).
 *
 * Contract of the table (what `seedClickHouseSource` builds, and what a production table must offer):
 *
 * - **The table** holds the schema's columns (a MergeTree sorted by the schema key); the watermark
 *   column (`updated_at`) is set by every insert and update to the change time.
 * - **The journal** `<table>__dpone_journal` is an append-only log kept by the table's writer (here
 *   the seeding helper; in production, the pipeline that writes the table): one event per insert
 *   (the key and `dpone_inserted_at`) and one per delete (the key, `dpone_deleted_at` and the row's
 *   before image). A delete leaves nothing behind in a MergeTree, and a live row alone cannot tell
 *   an insert from an update.
 *
 * Reads are bounded: each fixes its upper bound first — the newest change time in the table and the
 * journal — and then reads only changes up to it, so a write landing during the read is left whole
 * to the next read. A snapshot's cursor is that bound too, taken before the rows, so a concurrent
 * write is read again by the next watermark read (merges tolerate that) rather than skipped.
 * ClickHouse keeps no commit order: watermark reads return the latest state of each key changed in
 * the window, ordered by change time then key (a change's position is its change time); a key
 * inserted and updated in the window is one `I`.
 */
export interface ClickHouseSourceOptions {
  readonly table: QualifiedName;
  readonly schema: TableSchema;
  /** Column holding the change time; default `updated_at`. */
  readonly watermarkColumn?: string;
  /**
   * The instant snapshots stand for (UTC micros). SCD2 closes versions at this instant, so the test
   * oracle needs the fixture's `snapshotAt` exactly; without it the server's `now64(6)` is used.
   */
  readonly asOf?: number;
  readonly family?: string;
  readonly capabilities?: SourceCapabilities;
  readonly dialect?: ClickHouseDialect;
}

/** A ClickHouse table as a source (see the contract above). */
export class ClickHouseSource implements Source {
  readonly family: string;
  readonly capabilities: SourceCapabilities;
  readonly schema: TableSchema;
  readonly dialect: ClickHouseDialect;
  private readonly table: JournaledTable;

  constructor(private readonly driver: ClickHouseDriver, private readonly options: ClickHouseSourceOptions) {
    this.family = options.family ?? 'clickhouse';
    this.capabilities = options.capabilities ?? { incremental: true, xmin: false, cdc: false };
    this.schema = options.schema;
    this.dialect = options.dialect ?? new ClickHouseDialect();
    this.table = new JournaledTable(this.dialect, 'clickhouse source', options.table, options.schema, { ...options, insertTimeNullable: true });
  }

  private get compiler() {
    return this.dialect.compiler;
  }

  /** The newest change time (insert, update or delete), or undefined for an empty table and journal. */
  private async head(): Promise<number | undefined> {
    const watermark = this.table.q(this.table.watermarkColumn.name);
    const deletedAt = this.table.q(this.table.deletedAt.name);
    // max() of an empty table is the type's zero, not NULL: count the rows to tell them apart.
    const [row] = await this.driver.query(sqlText([
      `SELECT (SELECT count() FROM ${this.table.tableSql}), ${this.compiler.readExpression(this.table.watermarkColumn)},`,
      `  (SELECT count() FROM ${this.table.journalSql} WHERE ${deletedAt} IS NOT NULL), ${this.compiler.readExpression(this.table.deletedAt)}`,
      `FROM (SELECT (SELECT max(${watermark}) FROM ${this.table.tableSql}) AS ${watermark},`,
      `  (SELECT max(${deletedAt}) FROM ${this.table.journalSql}) AS ${deletedAt})`,
    ].join('\n')));
    if (!row) throw new Error('clickhouse source: no head position');
    const times = [Number(row[0]) > 0 ? this.table.watermarkOf(row[1]) : undefined, Number(row[2]) > 0 ? this.table.watermarkOf(row[3]) : undefined];
    const known = times.filter((time): time is number => time !== undefined);
    return known.length === 0 ? undefined : Math.max(...known);
  }

  /** The state a load of the table as it is now would commit: call it after seeding the base. */
  async baseCursor(): Promise<LoadState> {
    const watermark = await this.head();
    return watermark === undefined ? {} : { watermark };
  }

  async readSnapshot(filter?: RowPredicate): Promise<SnapshotRead> {
    const watermark = await this.head();
    const raw = await this.driver.query(this.table.snapshotQuery(filter, 'false'));
    const asOf = this.options.asOf ?? Number(await this.driver.scalar(sqlText('SELECT toString(toUnixTimestamp64Micro(now64(6)))')));
    return { rows: raw.map((row) => this.table.decodeRow(row)), asOf, cursor: watermark === undefined ? {} : { watermark } };
  }

  async readChanges(state: LoadState): Promise<ChangeRead> {
    this.require('incremental');
    const hi = await this.head();
    if (hi === undefined) return { changes: [], cursor: state };
    const lo = state.watermark;
    const window = (column: string, first: number): string => {
      const bound = (index: number) => this.compiler.bindExpression(index, this.table.watermarkColumn);
      return lo === undefined ? `${this.table.q(column)} <= ${bound(first)}` : `${this.table.q(column)} > ${bound(first + 1)} AND ${this.table.q(column)} <= ${bound(first)}`;
    };
    const params: CanonicalValue[] = lo === undefined ? [hi] : [hi, lo];
    const key = this.table.q(this.schema.key);
    const live = await this.driver.query({
      sql: [
        `SELECT ${key} IN (SELECT ${key} FROM ${this.table.journalSql} WHERE ${window(this.table.insertedAt.name, params.length + 1)}), ${this.table.readList()}`,
        `FROM ${this.table.tableSql}`,
        `WHERE ${window(this.table.watermarkColumn.name, 1)}`,
      ].join('\n'),
      params: [...params, ...params],
    });
    const gone = await this.driver.query({
      sql: `SELECT ${this.compiler.readExpression(this.table.deletedAt)}, ${this.table.readList()}\nFROM ${this.table.journalSql}\nWHERE ${window(this.table.deletedAt.name, 1)}`,
      params,
    });
    const changes = [
      ...live.map((raw) => this.table.change(raw[0] === true || raw[0] === 1 || raw[0] === '1' ? 'I' : 'U', this.table.decodeRow(raw, 1))),
      ...gone.map((raw) => this.table.change('D', this.table.decodeRow(raw, 1), this.table.watermarkOf(raw[0]))),
    ].sort(byChangeTimeThenKey);
    return { changes, cursor: watermarkCursor(changes, state) };
  }

  readXmin(_state: LoadState): Promise<XminRead> {
    return Promise.reject(this.unsupported('xmin'));
  }

  readCdc(_state: LoadState): Promise<ChangeRead> {
    return Promise.reject(this.unsupported('cdc'));
  }

  async close(): Promise<void> {
    await this.driver.close();
  }

  private require(capability: keyof SourceCapabilities): void {
    if (!this.capabilities[capability]) throw this.unsupported(capability);
  }

  private unsupported(capability: keyof SourceCapabilities): Error {
    return new Error(`${this.family} source ${this.table.name.name} does not support ${capability} reads`);
  }
}

/** The fixture data a seeding needs (a `SourceFixture` has it). */
export interface ClickHouseSeedData {
  readonly schema: TableSchema;
  readonly before: readonly Row[];
  readonly changes: readonly ChangeRecord[];
}

/**
 * Builds a source table from a fixture: creates the database, the table and its journal, loads the
 * base rows (and their insert events) through the native insert path, runs `afterBase` (e.g. to
 * take the base cursor), then applies the delta in commit order as real writes: inserts, updates
 * (a lightweight DELETE of the key, then the new row) and deletes (the change's before image into
 * the journal, then a lightweight DELETE). Consecutive changes of distinct keys and the same op are
 * written together.
 */
export async function seedClickHouseSource(
  driver: ClickHouseDriver, table: QualifiedName, fixture: ClickHouseSeedData,
  options: Omit<ClickHouseSourceOptions, 'table' | 'schema'> & { afterBase?: (source: ClickHouseSource) => Promise<void> } = {},
): Promise<ClickHouseSource> {
  const source = new ClickHouseSource(driver, { ...options, table, schema: fixture.schema });
  const dialect = source.dialect;
  const compiler = dialect.compiler;
  const schema = fixture.schema;
  const journal = journalTarget(table, schema, true);
  const journalName: QualifiedName = { ...table, name: journal.name };
  const names = loadNames(table.name, '__dpone__none', table.schema === undefined ? {} : { schema: table.schema });
  await driver.execute(compiler.createTarget({ name: table.name, dataSchema: schema, shape: 'plain' }, names));
  await driver.execute(compiler.createTarget(journal, { ...names, target: journalName }));
  const insertRows = (into: QualifiedName, columns: readonly ColumnDef[], rows: readonly Row[]) => insertCanonicalRows(driver, dialect, into, columns, rows);
  const q = (name: string) => dialect.quote(name);
  const keyIndex = columnIndex(schema, schema.key);
  const key = schema.columns[keyIndex] as ColumnDef;
  const watermarkIndex = columnIndex(schema, options.watermarkColumn ?? 'updated_at');
  const imageWidth = schema.columns.length - 1;
  const insertEvent = (value: KeyValue, at: number): Row => [value, at, null, ...new Array<null>(imageWidth).fill(null)];
  const deleteEvent = (change: ChangeRecord): Row => [change.key, null, change.at, ...change.row.filter((_value, index) => index !== keyIndex)];
  const deleteKeys = (keys: readonly KeyValue[]): SqlStatement => ({
    sql: `DELETE FROM ${dialect.qualified(table)} WHERE ${q(key.name)} IN (${keys.map((_key, index) => compiler.bindExpression(index + 1, key)).join(', ')})`,
    params: keys,
  });

  await insertRows(table, schema.columns, fixture.before);
  await insertRows(journalName, journal.dataSchema.columns, fixture.before.map((row) => insertEvent(keyOf(row, keyIndex), Number(row[watermarkIndex]))));
  await options.afterBase?.(source);

  for (const run of runsOfChanges(fixture.changes)) {
    const op = run[0]?.op;
    if (op === 'D') await insertRows(journalName, journal.dataSchema.columns, run.map(deleteEvent));
    if (op === 'D' || op === 'U') await driver.execute([deleteKeys(run.map((change) => change.key))]);
    if (op === 'I' || op === 'U') await insertRows(table, schema.columns, run.map((change) => change.row));
    if (op === 'I') await insertRows(journalName, journal.dataSchema.columns, run.map((change) => insertEvent(change.key, change.at)));
  }
  return source;
}

/** Changes cut into runs of one op and distinct keys, in commit order. */
function runsOfChanges(changes: readonly ChangeRecord[]): ChangeRecord[][] {
  const runs: ChangeRecord[][] = [];
  let keys = new Set<KeyValue>();
  for (const change of changes) {
    const run = runs.at(-1);
    if (run && run[0]?.op === change.op && !keys.has(change.key)) {
      run.push(change);
    } else {
      runs.push([change]);
      keys = new Set();
    }
    keys.add(change.key);
  }
  return runs;
}
