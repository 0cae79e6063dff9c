import type { Row, TableSchema } from '../engine/schema/index.ts';
import { formatTimestamp, rowHash } from '../engine/schema/index.ts';
import type { KeyValue } from '../engine/plan/index.ts';
import type { OracleExpectation } from '../fixtures/oracle.ts';
import type { SourceFixture } from '../fixtures/source-fixture.ts';
import type { SampleRow, SampleSet } from './results.ts';

const KEY = 0;
/** Leading wide columns shown in samples; the rest is represented by the row hash. */
const WIDE_COLUMNS_SHOWN = 2;
const BUSINESS_WIDTH = 6;

/** One key of each kind the delta has: stable, updated, deleted, inserted. */
export function sampleKeys(fixture: SourceFixture): KeyValue[] {
  const changed = new Set(fixture.changes.map((change) => change.key));
  const keys: KeyValue[] = [];
  const stable = fixture.before.find((row) => !changed.has(row[KEY] as KeyValue));
  if (stable) keys.push(stable[KEY] as KeyValue);
  for (const op of ['U', 'D', 'I'] as const) {
    const change = fixture.changes.find((candidate) => candidate.op === op);
    if (change && !keys.includes(change.key)) keys.push(change.key);
  }
  return keys;
}

/** A compact view of a row: business fields, a couple of wide columns, metadata columns and the hash. */
function compact(columns: readonly string[], row: Row, families: ReadonlyMap<string, string>, dataWidth: number): SampleRow {
  const sample: Record<string, string | number | boolean | null> = {};
  const shownWidth = BUSINESS_WIDTH + WIDE_COLUMNS_SHOWN;
  columns.forEach((name, index) => {
    if (index >= shownWidth && !name.startsWith('__dpone__')) return;
    const value = row[index] ?? null;
    const timestamp = (typeof value === 'number' || typeof value === 'bigint') && families.get(name) === 'timestamp';
    sample[name] = timestamp ? formatTimestamp(value) : typeof value === 'bigint' ? String(value) : value;
  });
  sample.row_hash = rowHash(row, dataWidth).hex;
  return sample;
}

const expectedSamples = new WeakMap<OracleExpectation, Row[]>();

/** The expectation's rows for the sample keys, found once per expectation (sinks of a kind share it). */
function expectedSampleRows(expectation: OracleExpectation, keys: ReadonlySet<KeyValue>): Row[] {
  let rows = expectedSamples.get(expectation);
  if (!rows) expectedSamples.set(expectation, (rows = rowsWithKeys(expectation.rows, keys)));
  return rows;
}

function rowsWithKeys(rows: readonly Row[], keys: ReadonlySet<KeyValue>): Row[] {
  return rows.filter((row) => keys.has(row[KEY] as KeyValue));
}

function hashesByKey(rows: readonly Row[], dataWidth: number): Map<KeyValue, string> {
  const byKey = new Map<KeyValue, string[]>();
  for (const row of rows) byKey.set(row[KEY] as KeyValue, [...(byKey.get(row[KEY] as KeyValue) ?? []), rowHash(row, dataWidth).hex]);
  return new Map([...byKey].map(([key, hashes]) => [key, hashes.sort().join(',')]));
}

/**
 * Samples for the artifact, after counts and checksums: the rows of a few keys in the target
 * before, the source read, the expectation and the actual target, and the keys where the last two
 * disagree. `actualRows` must already be projected to the expectation's columns.
 */
export function buildSamples(fixture: SourceFixture, expectation: OracleExpectation, actualRows: readonly Row[], targetSchema: TableSchema): SampleSet {
  const keys = new Set(sampleKeys(fixture));
  const families = new Map(targetSchema.columns.map((column) => [column.name, column.family] as const));
  const dataColumns = fixture.schema.columns.map((column) => column.name);
  const width = dataColumns.length;
  const expected = expectedSampleRows(expectation, keys);
  const actual = rowsWithKeys(actualRows, keys);
  const expectedHashes = hashesByKey(expected, width);
  const actualHashes = hashesByKey(actual, width);
  const mismatched = [...keys].filter((key) => expectedHashes.get(key) !== actualHashes.get(key));
  return {
    target_before: rowsWithKeys(fixture.before, keys).map((row) => compact(dataColumns, row, families, width)),
    source_rows: fixture.changes.filter((change) => keys.has(change.key))
      .map((change) => ({ ...compact(dataColumns, change.row, families, width), __dpone__op: change.op })),
    expected_rows: expected.map((row) => compact(expectation.columns, row, families, width)),
    actual_rows: actual.map((row) => compact(expectation.columns, row, families, width)),
    mismatched_keys: mismatched,
  };
}
