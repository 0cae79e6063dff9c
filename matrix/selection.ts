import { UsageError } from '../engine/usage-error.ts';
import { STRATEGY_NAMES } from '../engine/strategies/index.ts';
import type { MatrixCase } from './registry.ts';
import { MATRIX } from './registry.ts';
import { SINK_FAMILIES, SOURCE_FAMILIES } from './families.ts';

/** Filters over the matrix; lists are ORed within a filter and ANDed across filters. */
export interface CaseSelection {
  readonly caseIds?: readonly string[];
  readonly sources?: readonly string[];
  readonly sinks?: readonly string[];
  readonly strategies?: readonly string[];
  /** `{ index: i, count: n }`: the i-th of n interleaved shards (1-based). */
  readonly shard?: { readonly index: number; readonly count: number };
}

/** Env variables the matrix suites read, so a selection reaches vitest workers unchanged. */
export const SELECTION_ENV = {
  caseIds: 'DPONE_MATRIX_CASE_ID',
  sources: 'DPONE_MATRIX_SOURCE',
  sinks: 'DPONE_MATRIX_SINK',
  strategies: 'DPONE_MATRIX_STRATEGY',
  shard: 'DPONE_MATRIX_SHARD',
} as const;

/** Splits `a,b, c` into trimmed non-empty items. */
export function splitList(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(',').map((item) => item.trim()).filter(Boolean);
  return items.length ? items : undefined;
}

/** Parses `i/n` (1 ≤ i ≤ n). */
export function parseShard(text: string, field = '--shard'): { index: number; count: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || count < 1 || index < 1 || index > count) {
    throw new UsageError(field, `must look like i/n with 1 ≤ i ≤ n, got "${text}"`);
  }
  return { index, count };
}

function checkKnown(field: string, values: readonly string[] | undefined, known: readonly string[], noun: string): void {
  for (const value of values ?? []) {
    if (!known.includes(value)) throw new UsageError(field, `unknown ${noun} "${value}" (known: ${known.join(', ')})`);
  }
}

/** Throws a UsageError for any unknown case id, family or strategy. */
export function validateSelection(selection: CaseSelection, fields: Partial<Record<keyof CaseSelection, string>> = {}): void {
  for (const id of selection.caseIds ?? []) {
    if (!MATRIX.some((candidate) => candidate.id === id)) {
      throw new UsageError(fields.caseIds ?? '--case', `unknown case id "${id}" (ids look like postgres_to_mssql__incremental_merge)`);
    }
  }
  checkKnown(fields.sources ?? '--source', selection.sources, SOURCE_FAMILIES.map((f) => f.name), 'source');
  checkKnown(fields.sinks ?? '--sink', selection.sinks, SINK_FAMILIES.map((f) => f.name), 'sink');
  checkKnown(fields.strategies ?? '--strategy', selection.strategies, STRATEGY_NAMES, 'strategy');
}

/** The selection the env variables describe (what a vitest worker sees). */
export function selectionFromEnv(env: Record<string, string | undefined> = process.env): CaseSelection {
  const shardText = env[SELECTION_ENV.shard];
  const selection: CaseSelection = {
    caseIds: splitList(env[SELECTION_ENV.caseIds]),
    sources: splitList(env[SELECTION_ENV.sources]),
    sinks: splitList(env[SELECTION_ENV.sinks]),
    strategies: splitList(env[SELECTION_ENV.strategies]),
    shard: shardText ? parseShard(shardText, SELECTION_ENV.shard) : undefined,
  };
  validateSelection(selection, {
    caseIds: SELECTION_ENV.caseIds, sources: SELECTION_ENV.sources, sinks: SELECTION_ENV.sinks, strategies: SELECTION_ENV.strategies,
  });
  return selection;
}

/** Env assignments that carry a selection to vitest workers. */
export function selectionToEnv(selection: CaseSelection): Record<string, string> {
  const env: Record<string, string> = {};
  if (selection.caseIds) env[SELECTION_ENV.caseIds] = selection.caseIds.join(',');
  if (selection.sources) env[SELECTION_ENV.sources] = selection.sources.join(',');
  if (selection.sinks) env[SELECTION_ENV.sinks] = selection.sinks.join(',');
  if (selection.strategies) env[SELECTION_ENV.strategies] = selection.strategies.join(',');
  if (selection.shard) env[SELECTION_ENV.shard] = `${selection.shard.index}/${selection.shard.count}`;
  return env;
}

/** A selection as the `matrix` flags that express it (`--source kafka --strategy scd2`). */
export function describeSelection(selection: CaseSelection): string {
  const parts: string[] = [];
  const add = (flag: string, values: readonly string[] | undefined) => {
    if (values) parts.push(`${flag} ${values.join(',')}`);
  };
  add('--case', selection.caseIds);
  add('--source', selection.sources);
  add('--sink', selection.sinks);
  add('--strategy', selection.strategies);
  if (selection.shard) parts.push(`--shard ${selection.shard.index}/${selection.shard.count}`);
  return parts.join(' ') || 'the whole matrix';
}

/** Cases matching a selection, in registry order; shards interleave so each gets every family. */
export function selectCases(selection: CaseSelection, cases: readonly MatrixCase[] = MATRIX): MatrixCase[] {
  const matches = (values: readonly string[] | undefined, value: string) => !values || values.includes(value);
  const selected = cases.filter((candidate) =>
    matches(selection.caseIds, candidate.id) && matches(selection.sources, candidate.source)
    && matches(selection.sinks, candidate.sink) && matches(selection.strategies, candidate.strategy));
  const shard = selection.shard;
  return shard ? selected.filter((_, index) => index % shard.count === shard.index - 1) : selected;
}
