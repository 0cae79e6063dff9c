import type { Row, TableSchema } from '../schema/index.ts';
import type { ChangeRecord, KeyValue, RowPredicate } from '../plan/index.ts';
import type { LoadState } from '../state/index.ts';

/** What a source family can extract besides snapshots; the matrix skips on these flags. */
export interface SourceCapabilities {
  /** Watermark (or offset) based change extraction, deletes included. */
  readonly incremental: boolean;
  /** Postgres transaction-id deltas. */
  readonly xmin: boolean;
  /** Change data capture (logical decoding, SQL Server `cdc` functions). */
  readonly cdc: boolean;
}

export interface SnapshotRead {
  readonly rows: readonly Row[];
  /** Time the snapshot stands for (UTC micros); SCD2 closes versions at this instant. */
  readonly asOf: number;
  /** State that marks this snapshot as loaded. */
  readonly cursor: LoadState;
}

export interface ChangeRead {
  readonly changes: readonly ChangeRecord[];
  readonly cursor: LoadState;
}

export interface XminRead {
  /** Rows whose xmin is newer than the state's. */
  readonly rows: readonly Row[];
  /** Every key currently in the source: deletes are the target keys missing here. */
  readonly keys: readonly KeyValue[];
  readonly cursor: LoadState;
}

/** A source connector. Reads are bounded: each call fixes its end position before reading. */
export interface Source {
  readonly family: string;
  readonly capabilities: SourceCapabilities;
  readonly schema: TableSchema;
  readSnapshot(filter?: RowPredicate): Promise<SnapshotRead>;
  readChanges(state: LoadState): Promise<ChangeRead>;
  readXmin(state: LoadState): Promise<XminRead>;
  readCdc(state: LoadState): Promise<ChangeRead>;
  /** Called after the state commit, e.g. to commit Kafka offsets or advance a replication slot. */
  acknowledge?(state: LoadState): Promise<void>;
  close?(): Promise<void>;
}
