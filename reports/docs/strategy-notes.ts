import type { PlanOperationKind } from '../../engine/plan/index.ts';
import type { StrategyName } from '../../engine/strategies/index.ts';
import type { VolumeProfile, VolumeSplit } from '../../fixtures/volume-profile.ts';
import { splitVolume } from '../../fixtures/volume-profile.ts';
import { QUALITY_CHECKS } from '../../matrix/quality-checks.ts';

/** A quality check name as it appears in behavior artifacts. */
export type QualityCheckName = (typeof QUALITY_CHECKS)[keyof typeof QUALITY_CHECKS];

/** A read a strategy asks of its source, named after the Source method (`readSnapshot`, …). */
export type SourceRead = 'snapshot' | 'changes' | 'xmin' | 'cdc';

/** The volume a page describes: the profile's rows and split, plus the snapshot after the delta. */
export interface VolumeFigures extends VolumeSplit {
  readonly rows: number;
  /** Rows of the source snapshot after the delta: rows − deletes + inserts. */
  readonly snapshot: number;
}

/** What a strategy does to one kind of sink, with the figures a correct load ends at. */
interface SinkBehaviour {
  readonly behaviour: string;
  /** Checks the behavior test evaluates for this strategy on this sink kind. */
  readonly checks: readonly QualityCheckName[];
  /** Rows the oracle expects: every table row (all versions for scd2), or the topic's readable view. */
  readonly rows: (volume: VolumeFigures) => number;
  /** One line for the guides' "target after the load" column. */
  readonly after: (volume: VolumeFigures) => string;
}

export interface RelationalBehaviour extends SinkBehaviour {
  /** The LoadPlan operation the strategy emits for a relational sink. */
  readonly operation: PlanOperationKind;
  /** Current versions after the load, for strategies that keep history. */
  readonly currentRows?: (volume: VolumeFigures) => number;
}

export interface EventLogBehaviour extends SinkBehaviour {
  /** How `emit_events` treats deletes: `upsert` turns them into tombstones, `changelog` keeps them. */
  readonly mode: 'changelog' | 'upsert';
  /** Events in the topic after the load, counting the one event per row the previous load left. */
  readonly events: (volume: VolumeFigures) => number;
}

/** Prose and figures for one strategy; the generator adds everything the registry already knows. */
export interface StrategyNote {
  readonly summary: string;
  /** Source reads in the order the strategy issues them. */
  readonly sourceReads: readonly SourceRead[];
  readonly sourceRead: string;
  readonly relational: RelationalBehaviour;
  /** Null when the engine cannot load an event log with this strategy. */
  readonly eventLog: EventLogBehaviour | null;
  readonly deletes: string;
}

/** The figures of a profile; the pages use DEFAULT_PROFILE (10,000 rows, 2,000 changed, 500 deletes). */
export function volumeFigures(profile: VolumeProfile): VolumeFigures {
  const split = splitVolume(profile);
  return { ...split, rows: profile.rows, snapshot: profile.rows - split.deletes + split.inserts };
}

const n = (value: number): string => value.toLocaleString('en-US');

const CORE_CHECKS: readonly QualityCheckName[] = [
  QUALITY_CHECKS.rowCount, QUALITY_CHECKS.checksum, QUALITY_CHECKS.deleteKeysAbsent,
  QUALITY_CHECKS.wideColumns, QUALITY_CHECKS.nullDensity, QUALITY_CHECKS.stateOrder,
];
// Append keeps deleted keys as `D` rows, so the delete-keys check gives way to two history checks.
const APPEND_CHECKS: readonly QualityCheckName[] = [
  QUALITY_CHECKS.rowCount, QUALITY_CHECKS.checksum, QUALITY_CHECKS.wideColumns, QUALITY_CHECKS.nullDensity,
  QUALITY_CHECKS.stateOrder, QUALITY_CHECKS.appendPreserves, QUALITY_CHECKS.deleteEvents,
];
const LOG_CHECKS: readonly QualityCheckName[] = [...CORE_CHECKS, QUALITY_CHECKS.tombstones, QUALITY_CHECKS.eventCount];

const snapshotRows = (volume: VolumeFigures) => volume.snapshot;
/** Events a delta-sized load adds to a topic that already holds one event per base row. */
const deltaEvents = (volume: VolumeFigures) => volume.rows + volume.changed;

const snapshotTable = (volume: VolumeFigures) =>
  `${n(volume.snapshot)} rows, equal to the source snapshot; the ${n(volume.deletes)} deleted keys are gone`;
const compactedTopic = (events: (volume: VolumeFigures) => number) => (volume: VolumeFigures) =>
  `${n(events(volume))} events; the compacted view equals the ${n(volume.snapshot)}-row snapshot and the ${n(volume.deletes)} deleted keys end in tombstones`;

/** Keyed upsert on an event log: upserts for present keys, tombstones for deleted ones. */
function upsertLog(behaviour: string, events: (volume: VolumeFigures) => number): EventLogBehaviour {
  return { mode: 'upsert', behaviour, checks: LOG_CHECKS, rows: snapshotRows, events, after: compactedTopic(events) };
}

const incrementalRead = 'The changes committed after the stored `updated_at` watermark, in commit order: updates, deletes and inserts.';

/** Per-strategy notes, keyed by every strategy the engine knows. */
export const STRATEGY_NOTES: Readonly<Record<StrategyName, StrategyNote>> = {
  full_refresh: {
    summary: 'Reload everything: the complete source snapshot becomes the target.',
    sourceReads: ['snapshot'],
    sourceRead: 'One complete snapshot of the source table.',
    relational: {
      operation: 'swap',
      behaviour: 'The snapshot is staged in full and then swapped in for the target in one step, instead of being written row by row into it. Reconciliation compares the target row count with the snapshot.',
      checks: CORE_CHECKS,
      rows: snapshotRows,
      after: snapshotTable,
    },
    eventLog: upsertLog(
      'Every snapshot row is emitted again as a keyed upsert. Keys the topic still holds but the snapshot no longer has are found by comparing the two key sets and receive a tombstone.',
      (volume) => volume.rows + volume.snapshot + volume.deletes,
    ),
    deletes: 'Implicit: a key missing from the snapshot is absent after the swap, or tombstoned on Kafka.',
  },
  incremental_append: {
    summary: 'Keep every change: the delta since the last watermark is appended as rows that carry their operation.',
    sourceReads: ['changes'],
    sourceRead: incrementalRead,
    relational: {
      operation: 'append',
      behaviour: 'Each change is staged with its operation (`I`, `U` or `D`) in `__dpone__op` and appended. Rows already in the target are never modified. Reconciliation checks that the table grew by exactly the number of changes.',
      checks: APPEND_CHECKS,
      rows: deltaEvents,
      after: (volume) => `${n(volume.rows + volume.changed)} rows: the ${n(volume.rows)} earlier rows untouched plus ${n(volume.changed)} change rows, ${n(volume.deletes)} of them \`D\` rows`,
    },
    eventLog: {
      mode: 'changelog',
      behaviour: 'Each change becomes one event, in commit order. Deletes are ordinary events carrying the deleted row, not tombstones, so the topic is a raw change log rather than a compacted table.',
      checks: [...APPEND_CHECKS, QUALITY_CHECKS.eventCount],
      rows: deltaEvents,
      events: deltaEvents,
      after: (volume) => `${n(deltaEvents(volume))} events: the raw change log, with the ${n(volume.deletes)} deletes kept as events`,
    },
    deletes: 'Recorded, not applied: a delete arrives as a row or event with operation `D`, and the key keeps its earlier rows.',
  },
  incremental_merge: {
    summary: 'Upsert the delta by key and remove the keys it deletes.',
    sourceReads: ['changes'],
    sourceRead: incrementalRead,
    relational: {
      operation: 'merge',
      behaviour: 'The changes are reduced to the last change per key, staged, and merged by key: inserts and updates become upserts, deletes remove the key. Reconciliation checks that every upserted key is present and every deleted key absent.',
      checks: CORE_CHECKS,
      rows: snapshotRows,
      after: snapshotTable,
    },
    eventLog: upsertLog('The last change per key is emitted as a keyed upsert, and a delete as a tombstone.', deltaEvents),
    deletes: 'Applied: the key of a delete change is removed, or tombstoned on Kafka.',
  },
  replace: {
    summary: 'Reload a bounded window of the table (a key or date range) from the source.',
    sourceReads: ['snapshot'],
    sourceRead: 'A snapshot of the rows inside the window (`window`: column, lo, hi). The matrix uses the key range its delta touches.',
    relational: {
      operation: 'replace_window',
      behaviour: 'The rows of the window are staged; the target rows inside the window are then replaced by them, while rows outside the window stay as they were. Reconciliation counts the rows inside the window.',
      checks: [...CORE_CHECKS, QUALITY_CHECKS.windowBoundary],
      rows: snapshotRows,
      after: (volume) => `${snapshotTable(volume)}; rows outside the window are unchanged`,
    },
    eventLog: upsertLog(
      'The rows of the window are emitted again as upserts, and keys inside the window that the source no longer has receive tombstones. On Kafka the window must be on the key column; the plan is refused otherwise.',
      deltaEvents,
    ),
    deletes: 'A row deleted at the source disappears only when it lies inside the window; deletes outside the window are not seen.',
  },
  snapshot_diff: {
    summary: 'Compare a complete snapshot with the target by key and row hash, and write only the differences.',
    sourceReads: ['snapshot'],
    sourceRead: 'One complete snapshot; the target contributes its `key → row hash` map.',
    relational: {
      operation: 'merge',
      behaviour: 'Each snapshot row is hashed and compared with the `__dpone__row_hash` of the target row under the same key: new keys are staged as inserts, changed hashes as updates, and target keys missing from the snapshot as deletes. Only this difference is merged, and the stored hash is kept for the next comparison.',
      checks: [...CORE_CHECKS, QUALITY_CHECKS.rowHash],
      rows: snapshotRows,
      after: (volume) => `${snapshotTable(volume)}; every row carries its \`__dpone__row_hash\``,
    },
    eventLog: upsertLog(
      'The same difference, computed against the topic\'s compacted view, is emitted: upserts for new and changed keys, tombstones for keys the snapshot lost. Unchanged keys produce no event.',
      deltaEvents,
    ),
    deletes: 'Keys present only in the target are deleted (delete policy `delete`), or tombstoned on Kafka.',
  },
  partition_replace: {
    summary: 'Rewrite the whole partitions that the delta touches.',
    sourceReads: ['changes', 'snapshot'],
    sourceRead: 'The changes after the watermark, only to learn which `business_date` partitions they touch; then a complete snapshot of those partitions.',
    relational: {
      operation: 'replace_partitions',
      behaviour: 'The touched partitions are staged in full and take the place of the matching target partitions (partition exchange where the sink supports it, delete and insert otherwise). Partitions the delta did not touch are left alone. Reconciliation counts the rows of the replaced partitions.',
      checks: [...CORE_CHECKS, QUALITY_CHECKS.partitionBoundary],
      rows: snapshotRows,
      after: (volume) => `${snapshotTable(volume)}; partitions the delta did not touch are unchanged`,
    },
    eventLog: null,
    deletes: 'A deleted row disappears because its partition is rewritten without it.',
  },
  scd2: {
    summary: 'Keep a type-2 history: a change closes the current version of a key and opens a new one.',
    sourceReads: ['snapshot'],
    sourceRead: 'One complete snapshot of the dimension; the target contributes the row hashes of its current versions.',
    relational: {
      operation: 'scd2_expire_insert',
      behaviour: 'The snapshot is compared with the current versions by key and row hash. For a changed key the current version is closed at the snapshot instant (`__dpone__valid_to` set, `__dpone__is_current` false) and a new current version valid from that instant is inserted; a new key gets its first version; unchanged keys are not touched. Reconciliation counts the current versions and checks that deleted keys have none.',
      checks: [...CORE_CHECKS, QUALITY_CHECKS.scd2Current, QUALITY_CHECKS.rowHash],
      rows: (volume) => volume.rows + volume.updates + volume.inserts,
      currentRows: snapshotRows,
      after: (volume) => `${n(volume.rows + volume.updates + volume.inserts)} versions, exactly ${n(volume.snapshot)} of them current; the ${n(volume.deletes)} deleted keys keep their history but no current version`,
    },
    eventLog: null,
    deletes: 'A key missing from the snapshot has its current version closed and receives no new one; its history stays.',
  },
  backfill: {
    summary: 'Reload a historical date range in chunks, resuming where a failed run stopped.',
    sourceReads: ['snapshot'],
    sourceRead: 'For each chunk of `chunk_size` days between `from` and `to`, a snapshot of those `business_date` partitions.',
    relational: {
      operation: 'replace_partitions',
      behaviour: 'The range is cut into deterministic chunks named `chunk_YYYYMMDD`. Each chunk is a staged partition replace with its own reconciliation and its own state commit, which records the chunk as completed; a rerun skips committed chunks and resumes at the first one that is not.',
      checks: [...CORE_CHECKS, QUALITY_CHECKS.partitionBoundary],
      rows: snapshotRows,
      after: (volume) => `${snapshotTable(volume)}; partitions outside the range are unchanged`,
    },
    eventLog: null,
    deletes: 'As with `partition_replace`: a row deleted at the source vanishes with the partition that is rewritten without it.',
  },
  xmin: {
    summary: 'PostgreSQL sources only: load the rows written by newer transactions and find deletes by comparing keys.',
    sourceReads: ['xmin'],
    sourceRead: 'Rows whose transaction id (`xmin`) is newer than the stored one, together with the complete key set of the source table.',
    relational: {
      operation: 'merge',
      behaviour: 'New and changed rows are upserted by key. A physical delete leaves no row with a newer `xmin`, so the source key set is compared with the target\'s and missing keys are staged as deletes in the same merge. The highest `xmin` seen becomes the new cursor.',
      checks: CORE_CHECKS,
      rows: snapshotRows,
      after: snapshotTable,
    },
    eventLog: upsertLog('Upserts for the rows with a newer `xmin`, tombstones for the keys the key comparison found missing.', deltaEvents),
    deletes: 'Detected by key reconciliation, then deleted, or tombstoned on Kafka.',
  },
  cdc: {
    summary: 'Apply the change stream of PostgreSQL logical decoding or SQL Server CDC.',
    sourceReads: ['cdc'],
    sourceRead: 'The change events after the last applied log position (LSN).',
    relational: {
      operation: 'merge',
      behaviour: 'The events are reduced to the last change per key and merged: upserts for inserts and updates, removal for deletes. The LSN is committed only once reconciliation has passed.',
      checks: CORE_CHECKS,
      rows: snapshotRows,
      after: snapshotTable,
    },
    eventLog: upsertLog('Every original event is emitted in order, without reducing it per key; deletes become tombstones.', deltaEvents),
    deletes: 'A delete event removes the key, or becomes a tombstone on Kafka.',
  },
};
