import type { Row, TableSchema } from '../../schema/index.ts';
import { columnIndex } from '../../schema/index.ts';
import type { ChangeRecord, KeyValue, RowPredicate } from '../../plan/index.ts';
import { keyOf, rowMatcher } from '../../plan/index.ts';
import type { LoadState } from '../../state/index.ts';
import { lsnAfter } from '../../state/index.ts';
import type { ChangeRead, SnapshotRead, Source, SourceCapabilities, XminRead } from '../source.ts';

export interface MemorySourceInit {
  readonly family: string;
  readonly capabilities: SourceCapabilities;
  readonly schema: TableSchema;
  /** The table as the previous load saw it. */
  readonly baseRows: readonly Row[];
  /** Changes applied after the base, in commit order; each is its own transaction. */
  readonly changes: readonly ChangeRecord[];
  /** Instant the current snapshot stands for (UTC micros). */
  readonly snapshotAt: number;
  /** Column holding the change time used as the incremental watermark. */
  readonly watermarkColumn: string;
}

/** Transaction id of the base rows; change `i` commits as `BASE_XID + 1 + i`. */
export const BASE_XID = 1000;

/** Highest watermark of a base table (sources built from one fixture share it). */
const baseWatermarks = new WeakMap<readonly Row[], number>();
const sharedTables = new WeakMap<readonly ChangeRecord[], WeakMap<readonly Row[], Map<KeyValue, VersionedRow>>>();

interface VersionedRow {
  readonly row: Row;
  readonly xmin: number;
}

/**
 * A source table held in memory with its history: base rows plus an ordered change log. It answers
 * snapshot, watermark, xmin and CDC reads the way the real connectors do, within its capabilities.
 */
export class MemorySource implements Source {
  readonly family: string;
  readonly capabilities: SourceCapabilities;
  readonly schema: TableSchema;
  private readonly init: MemorySourceInit;
  private current?: Map<KeyValue, VersionedRow>;

  constructor(init: MemorySourceInit) {
    this.init = init;
    this.family = init.family;
    this.capabilities = init.capabilities;
    this.schema = init.schema;
  }

  /** The state a previous load of the base rows would have committed. */
  baseCursor(): LoadState {
    let watermark = baseWatermarks.get(this.init.baseRows);
    if (watermark === undefined) {
      const watermarkIndex = columnIndex(this.schema, this.init.watermarkColumn);
      watermark = 0;
      for (const row of this.init.baseRows) watermark = Math.max(watermark, Number(row[watermarkIndex] ?? 0));
      baseWatermarks.set(this.init.baseRows, watermark);
    }
    return { watermark, xmin: BASE_XID, lsn: '0/1000000' };
  }

  async readSnapshot(filter?: RowPredicate): Promise<SnapshotRead> {
    const matches = filter ? rowMatcher(this.schema, filter) : () => true;
    const rows: Row[] = [];
    for (const { row } of this.table().values()) if (matches(row)) rows.push(row);
    return { rows, asOf: this.init.snapshotAt, cursor: this.headCursor() };
  }

  async readChanges(state: LoadState): Promise<ChangeRead> {
    this.require('incremental');
    const since = state.watermark ?? Number.NEGATIVE_INFINITY;
    const changes = this.init.changes.filter((change) => change.at > since);
    const watermark = changes.reduce((max, change) => Math.max(max, change.at), state.watermark ?? 0);
    return { changes, cursor: { watermark } };
  }

  async readXmin(state: LoadState): Promise<XminRead> {
    this.require('xmin');
    const since = state.xmin ?? 0;
    const rows: Row[] = [];
    const keys: KeyValue[] = [];
    let maxXmin = since;
    for (const [key, versioned] of this.table()) {
      keys.push(key);
      if (versioned.xmin > since) rows.push(versioned.row);
      maxXmin = Math.max(maxXmin, versioned.xmin);
    }
    return { rows, keys, cursor: { xmin: maxXmin } };
  }

  async readCdc(state: LoadState): Promise<ChangeRead> {
    this.require('cdc');
    const changes = this.init.changes.filter((change) => lsnAfter(change.position, state.lsn));
    const last = changes.at(-1);
    return { changes, cursor: { lsn: last ? last.position : state.lsn } };
  }

  private headCursor(): LoadState {
    const last = this.init.changes.at(-1);
    const base = this.baseCursor();
    return {
      watermark: this.init.changes.reduce((max, change) => Math.max(max, change.at), base.watermark ?? 0),
      xmin: BASE_XID + this.init.changes.length,
      lsn: last ? last.position : base.lsn,
    };
  }

  private table(): Map<KeyValue, VersionedRow> {
    // The table only depends on the (immutable) base rows and changes: sources built from the same
    // fixture share it.
    this.current ??= sharedTables.get(this.init.changes)?.get(this.init.baseRows);
    if (!this.current) {
      const keyIndex = columnIndex(this.schema, this.schema.key);
      const table = new Map<KeyValue, VersionedRow>();
      for (const row of this.init.baseRows) table.set(keyOf(row, keyIndex), { row, xmin: BASE_XID });
      this.init.changes.forEach((change, index) => {
        if (change.op === 'D') table.delete(change.key);
        else table.set(change.key, { row: change.row, xmin: BASE_XID + 1 + index });
      });
      this.current = table;
      const byBase = sharedTables.get(this.init.changes) ?? new WeakMap();
      byBase.set(this.init.baseRows, table);
      sharedTables.set(this.init.changes, byBase);
    }
    return this.current;
  }

  private require(capability: keyof SourceCapabilities): void {
    if (!this.capabilities[capability]) {
      throw new Error(`source ${this.family} does not support ${capability} extraction`);
    }
  }
}
