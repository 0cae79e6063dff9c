import type { Row, TableSchema } from '../engine/schema/index.ts';
import { columnIndex, dataRowOf, META_COLUMNS, rowHash, stableJson } from '../engine/schema/index.ts';
import type { KeyValue } from '../engine/plan/index.ts';
import { rowMatcher } from '../engine/plan/index.ts';
import type { LoadReport } from '../engine/lifecycle/index.ts';
import type { TargetContent } from '../engine/connectors/index.ts';
import type { LoadState } from '../engine/state/index.ts';
import type { OracleExpectation } from '../fixtures/oracle.ts';
import type { SourceFixture } from '../fixtures/source-fixture.ts';
import { projectRows, tableChecksum, tableProfile } from '../fixtures/checksum.ts';
import type { TableProfile } from '../fixtures/checksum.ts';
import { BUSINESS_COLUMNS, SPARSITY_CLASSES, WIDE_COLUMN_COUNT, wideColumn } from '../fixtures/wide-rows.ts';
import type { QualityCheckResult } from './results.ts';

/** Quality check names: part of the artifact contract. */
export const QUALITY_CHECKS = {
  rowCount: 'row_count_matches_source_snapshot',
  checksum: 'checksum_matches_source_snapshot',
  deleteKeysAbsent: 'delete_keys_absent',
  wideColumns: 'wide_columns_preserved',
  nullDensity: 'no_unexpected_null_density',
  stateOrder: 'state_committed_after_reconcile',
  appendPreserves: 'append_preserves_existing_rows',
  deleteEvents: 'delete_events_preserved',
  scd2Current: 'scd2_single_current_version',
  partitionBoundary: 'partition_boundary_respected',
  windowBoundary: 'replace_window_respected',
  tombstones: 'tombstones_for_deletes',
  eventCount: 'event_count_matches_oracle',
  rowHash: 'row_hash_matches_content',
} as const;

/** What the checks judge: the target as read back, the load's own report and the stored state. */
export interface JudgeInput {
  readonly fixture: SourceFixture;
  readonly expectation: OracleExpectation;
  readonly actual: TargetContent;
  readonly load: LoadReport | undefined;
  readonly storedState: LoadState;
}

/** Fewest expected null (or non-null) cells for a sparse column's share to be judged. */
const MIN_EXPECTED_CELLS = 10;

const expectedProfiles = new WeakMap<OracleExpectation, TableProfile>();

/** Checksum and non-null counts of the oracle's rows, memoised per expectation (sinks of a kind share it). */
export function expectedProfile(expectation: OracleExpectation, dataWidth: number): TableProfile {
  let profile = expectedProfiles.get(expectation);
  if (!profile) expectedProfiles.set(expectation, (profile = tableProfile(expectation.rows, expectation.columns.length, dataWidth)));
  return profile;
}

/** The actual rows restricted to the expectation's columns, or the name of a missing column. */
export function projectActual(actual: TargetContent, expectation: OracleExpectation): readonly Row[] | string {
  const missing = expectation.columns.find((name) => !actual.schema.columns.some((column) => column.name === name));
  return missing ?? projectRows(actual.schema, actual.rows, expectation.columns);
}

const check = (name: string, passed: boolean, detail: string): QualityCheckResult => ({ name, passed, detail });

function currentRows(actual: TargetContent): readonly Row[] {
  const index = actual.schema.columns.findIndex((column) => column.name === META_COLUMNS.isCurrent);
  return index < 0 ? actual.rows : actual.rows.filter((row) => row[index] === true);
}

function keysOf(schema: TableSchema, rows: readonly Row[]): Set<KeyValue> {
  const index = columnIndex(schema, schema.key);
  return new Set(rows.map((row) => row[index] as KeyValue));
}

function wideColumnsPreserved(input: JudgeInput, projectedCounts: Int32Array, want: Int32Array): QualityCheckResult {
  const { fixture, actual, expectation } = input;
  const wide = Array.from({ length: WIDE_COLUMN_COUNT }, (_, i) => wideColumn(fixture.source, i + 1));
  const missing = wide.filter((column) => !actual.schema.columns.some((c) => c.name === column.name && c.family === column.family));
  if (missing.length) {
    return check(QUALITY_CHECKS.wideColumns, false, `${missing.length} wide columns missing or retyped, e.g. ${missing[0]?.name}`);
  }
  const names = wide.map((column) => column.name);
  // Projected and expected rows both follow the expectation's column order.
  const indexes = names.map((name) => expectation.columns.indexOf(name));
  const got = indexes.map((index) => projectedCounts[index]);
  const wanted = indexes.map((index) => want[index]);
  const differing = names.filter((_, i) => got[i] !== wanted[i]);
  return check(QUALITY_CHECKS.wideColumns, differing.length === 0, differing.length === 0
    ? `all ${WIDE_COLUMN_COUNT} wide columns present with the expected non-null counts`
    : `${differing.length} wide columns differ in non-null count, e.g. ${differing[0]}: ${got[names.indexOf(differing[0] ?? '')]} vs ${wanted[names.indexOf(differing[0] ?? '')]}`);
}

/**
 * Nulls must follow each column's sparsity class: none in business and dense columns, and about
 * 25/50/90 % in sparse ones (tolerance: 4 standard deviations, at least 3 points). A sparse class
 * is judged only when the table is large enough for it (n·min(p, 1 − p) ≥ 10 expected cells).
 */
function nullDensity(input: JudgeInput, projected: readonly Row[], projectedCounts: Int32Array): QualityCheckResult {
  const { expectation, fixture } = input;
  const rows = projected;
  if (rows.length === 0) return check(QUALITY_CHECKS.nullDensity, true, 'target is empty: nothing to measure');
  const problems: string[] = [];
  const countOf = (name: string) => projectedCounts[expectation.columns.indexOf(name)] ?? 0;
  for (const column of BUSINESS_COLUMNS) {
    if (countOf(column.name) !== rows.length) problems.push(`${column.name} has ${rows.length - countOf(column.name)} nulls`);
  }
  const wide = Array.from({ length: WIDE_COLUMN_COUNT }, (_, i) => wideColumn(fixture.source, i + 1));
  wide.forEach((column) => {
    const nullShare = 1 - countOf(column.name) / rows.length;
    const nominal = column.sparsity.nullPercent / 100;
    if (nominal > 0 && rows.length * Math.min(nominal, 1 - nominal) < MIN_EXPECTED_CELLS) return;
    const tolerance = nominal === 0 ? 0 : Math.max(0.03, 4 * Math.sqrt((nominal * (1 - nominal)) / rows.length));
    if (Math.abs(nullShare - nominal) > tolerance) {
      problems.push(`${column.name} is ${(nullShare * 100).toFixed(1)}% null, class ${column.sparsity.name}`);
    }
  });
  const classes = SPARSITY_CLASSES.map((sparsity) => sparsity.name).join('/');
  return check(QUALITY_CHECKS.nullDensity, problems.length === 0, problems.length === 0
    ? `business columns have no nulls; ${WIDE_COLUMN_COUNT} wide columns match their ${classes} classes over ${rows.length} rows`
    : `${problems.length} columns off: ${problems.slice(0, 3).join('; ')}`);
}

function stateOrder(input: JudgeInput): QualityCheckResult {
  const { load, storedState } = input;
  if (!load) return check(QUALITY_CHECKS.stateOrder, false, 'the load did not complete');
  const problems: string[] = [];
  for (const batch of load.batches) {
    const at = (phase: string) => load.phases.findIndex((event) => event.batch === batch.id && event.phase === phase && event.status === 'ok');
    const reconciled = at('reconcile');
    const committed = at('commit_state');
    if (committed < 0) problems.push(`batch ${batch.id} never committed state`);
    else if (reconciled < 0 || reconciled > committed) problems.push(`batch ${batch.id} committed state before reconciling`);
    if (batch.reconciliation.some((result) => !result.passed)) problems.push(`batch ${batch.id} committed with a failed reconciliation`);
  }
  const committedState = load.committedState;
  if (load.batches.length > 0 && stableJson(storedState) !== stableJson(committedState ?? null)) {
    problems.push('the state store does not hold the state the load committed');
  }
  return check(QUALITY_CHECKS.stateOrder, problems.length === 0, problems.length === 0
    ? `${load.batches.length} batch(es): reconcile passed, then state committed (${Object.keys(storedState).filter((key) => key !== 'loadId').join(', ') || 'no cursor'})`
    : problems.join('; '));
}

function multisetContains(rows: readonly Row[], required: readonly Row[], dataWidth: number): number {
  const needed = new Map<string, number>();
  for (const row of required) {
    const hash = rowHash(row, dataWidth).hex;
    needed.set(hash, (needed.get(hash) ?? 0) + 1);
  }
  for (const row of rows) {
    const hash = rowHash(row, dataWidth).hex;
    const count = needed.get(hash);
    if (count !== undefined) needed.set(hash, count - 1);
  }
  let missing = 0;
  for (const count of needed.values()) if (count > 0) missing += count;
  return missing;
}

function boundary(input: JudgeInput, projected: readonly Row[]): QualityCheckResult | undefined {
  const bound = input.expectation.boundary;
  if (!bound) return undefined;
  const name = bound.kind === 'partitions' ? QUALITY_CHECKS.partitionBoundary : QUALITY_CHECKS.windowBoundary;
  const inside = rowMatcher(input.fixture.schema, bound.predicate);
  const split = (rows: readonly Row[]) => [rows.filter((row) => !inside(row)), rows.filter(inside)] as const;
  const [actualOut, actualIn] = split(projected);
  const [expectedOut, expectedIn] = split(input.expectation.rows);
  const width = input.fixture.schema.columns.length;
  const out = [tableChecksum(actualOut, width), tableChecksum(expectedOut, width)] as const;
  const within = [tableChecksum(actualIn, width), tableChecksum(expectedIn, width)] as const;
  const passed = out[0].checksum === out[1].checksum && within[0].checksum === within[1].checksum;
  const scope = bound.kind === 'partitions' ? `${bound.predicate.kind === 'in' ? bound.predicate.values.length : 0} replaced partitions` : 'the replace window';
  return check(name, passed, `outside ${scope}: ${out[0].rows} rows ${out[0].checksum} (expected ${out[1].rows} ${out[1].checksum}); inside: ${within[0].rows} rows ${within[0].checksum} (expected ${within[1].rows} ${within[1].checksum})`);
}

function scd2Versions(input: JudgeInput): QualityCheckResult {
  const { actual, expectation, fixture } = input;
  const keyIndex = columnIndex(actual.schema, actual.schema.key);
  const currentIndex = columnIndex(actual.schema, META_COLUMNS.isCurrent);
  const validToIndex = columnIndex(actual.schema, META_COLUMNS.validTo);
  const currentPerKey = new Map<KeyValue, number>();
  let badValidity = 0;
  for (const row of actual.rows) {
    const isCurrent = row[currentIndex] === true;
    if (isCurrent !== (row[validToIndex] === null)) badValidity++;
    if (isCurrent) currentPerKey.set(row[keyIndex] as KeyValue, (currentPerKey.get(row[keyIndex] as KeyValue) ?? 0) + 1);
  }
  const multiple = [...currentPerKey.values()].filter((count) => count > 1).length;
  const afterKeys = keysOf(fixture.schema, fixture.after);
  const withoutCurrent = [...afterKeys].filter((key) => currentPerKey.get(key) !== 1).length;
  const deletedCurrent = expectation.absentKeys.filter((key) => currentPerKey.has(key)).length;
  const passed = multiple === 0 && withoutCurrent === 0 && deletedCurrent === 0 && badValidity === 0
    && currentPerKey.size === expectation.currentRows;
  return check(QUALITY_CHECKS.scd2Current, passed,
    `${currentPerKey.size} current versions (expected ${expectation.currentRows}); keys with several: ${multiple}; source keys without one: ${withoutCurrent}; deleted keys still current: ${deletedCurrent}; rows with inconsistent validity: ${badValidity}`);
}

function rowHashes(input: JudgeInput): QualityCheckResult {
  const { actual, fixture } = input;
  const hashIndex = columnIndex(actual.schema, META_COLUMNS.rowHash);
  const width = fixture.schema.columns.length;
  const wrong = actual.rows.filter((row) => row[hashIndex] !== rowHash(dataRowOf(row, width)).hex).length;
  return check(QUALITY_CHECKS.rowHash, wrong === 0, `${wrong} of ${actual.rows.length} rows carry a ${META_COLUMNS.rowHash} that differs from their content`);
}

export interface Judgement {
  readonly results: readonly QualityCheckResult[];
  readonly expected: TableProfile;
  /** Null when the target lacks a column the expectation speaks about. */
  readonly actual: TableProfile | null;
}

/**
 * Evaluates every quality check that applies to the expectation against the actual target. Each
 * check can fail; none is a label.
 */
export function evaluateQualityChecks(input: JudgeInput): Judgement {
  const { expectation, actual } = input;
  const width = input.fixture.schema.columns.length;
  const results: QualityCheckResult[] = [];
  const projected = projectActual(actual, expectation);
  const want = expectedProfile(expectation, width);
  results.push(check(QUALITY_CHECKS.rowCount, actual.rows.length === expectation.rows.length,
    `${actual.rows.length} rows in the target, ${expectation.rows.length} expected`));
  if (typeof projected === 'string') {
    results.push(check(QUALITY_CHECKS.checksum, false, `target has no column ${projected}`));
    return { results, expected: want, actual: null };
  }
  const got = tableProfile(projected, expectation.columns.length, width);
  results.push(check(QUALITY_CHECKS.checksum, got.checksum === want.checksum, `actual ${got.checksum}, expected ${want.checksum}`));
  if (!expectation.preservedRows) {
    const present = keysOf(actual.schema, currentRows(actual));
    const still = expectation.absentKeys.filter((key) => present.has(key));
    results.push(check(QUALITY_CHECKS.deleteKeysAbsent, still.length === 0,
      `${still.length} of ${expectation.absentKeys.length} deleted keys are still in the target${still.length ? ` (e.g. ${still[0]})` : ''}`));
  }
  results.push(wideColumnsPreserved(input, got.nonNull, want.nonNull));
  results.push(nullDensity(input, projected, got.nonNull));
  results.push(stateOrder(input));
  if (expectation.preservedRows) {
    const missing = multisetContains(projected, expectation.preservedRows, width);
    results.push(check(QUALITY_CHECKS.appendPreserves, missing === 0, `${missing} of ${expectation.preservedRows.length} earlier rows missing or altered`));
    const opIndex = expectation.columns.indexOf(META_COLUMNS.op);
    const deletes = projected.filter((row) => row[opIndex] === 'D').length;
    results.push(check(QUALITY_CHECKS.deleteEvents, deletes === expectation.deleteEvents, `${deletes} delete rows kept, ${expectation.deleteEvents} expected`));
  }
  if (expectation.currentRows !== undefined) results.push(scd2Versions(input));
  const bound = boundary(input, projected);
  if (bound) results.push(bound);
  if (expectation.tombstoneKeys) {
    const tombstoned = actual.tombstonedKeys ?? new Set<KeyValue>();
    const missing = expectation.tombstoneKeys.filter((key) => !tombstoned.has(key)).length;
    results.push(check(QUALITY_CHECKS.tombstones, missing === 0, `${expectation.tombstoneKeys.length - missing} of ${expectation.tombstoneKeys.length} deleted keys end in a tombstone`));
  }
  if (expectation.eventCount !== undefined) {
    results.push(check(QUALITY_CHECKS.eventCount, actual.eventCount === expectation.eventCount, `${actual.eventCount ?? 'no'} events in the log, ${expectation.eventCount} expected`));
  }
  if (expectation.columns.includes(META_COLUMNS.rowHash)) results.push(rowHashes(input));
  return { results, expected: want, actual: got };
}
