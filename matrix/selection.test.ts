import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { catchUsageError } from '../engine/usage-error.ts';
import { MATRIX } from './registry.ts';
import type { CaseSelection } from './selection.ts';
import {
  describeSelection, parseShard, SELECTION_ENV, selectCases, selectionFromEnv, selectionToEnv, splitList, validateSelection,
} from './selection.ts';


const ids = (selection: CaseSelection) => selectCases(selection).map((c) => c.id);

describe('selectCases', () => {
  it('selects everything without filters, in registry order', () => {
    expect(selectCases({})).toEqual([...MATRIX]);
  });

  it('selects by case ids in registry order, not in the order given', () => {
    expect(ids({ caseIds: ['kafka_to_kafka__replace', 'postgres_to_mssql__xmin'] }))
      .toEqual(['postgres_to_mssql__xmin', 'kafka_to_kafka__replace']);
  });

  it('ORs within a filter', () => {
    const selected = selectCases({ sources: ['mssql', 'kafka'] });
    expect(selected).toHaveLength(42 + 37);
    expect(new Set(selected.map((c) => c.source))).toEqual(new Set(['mssql', 'kafka']));
    expect(selectCases({ strategies: ['xmin', 'cdc'] })).toHaveLength(15);
  });

  it('ANDs across filters', () => {
    expect(ids({ sources: ['postgres'], sinks: ['kafka'], strategies: ['cdc', 'xmin', 'scd2'] }))
      .toEqual(['postgres_to_kafka__xmin', 'postgres_to_kafka__cdc']);
    expect(selectCases({ sinks: ['bigquery'], strategies: ['full_refresh'] })).toHaveLength(5);
    expect(ids({ caseIds: ['postgres_to_mssql__xmin'], sources: ['mssql'] })).toEqual([]);
  });

  it('matches every filter dimension against the same case (property)', () => {
    const pick = <T>(values: readonly T[]) => fc.option(fc.subarray([...values], { minLength: 1 }), { nil: undefined });
    const selection = fc.record({
      sources: pick(['postgres', 'mssql', 'clickhouse', 'rest_api', 'kafka']),
      sinks: pick(['mssql', 'postgres', 'clickhouse', 'bigquery', 'kafka']),
      strategies: pick(['full_refresh', 'replace', 'scd2', 'xmin', 'cdc', 'snapshot_diff']),
    });
    fc.assert(fc.property(selection, (chosen) => {
      const expected = MATRIX.filter((c) => (!chosen.sources || chosen.sources.includes(c.source))
        && (!chosen.sinks || chosen.sinks.includes(c.sink))
        && (!chosen.strategies || chosen.strategies.includes(c.strategy)));
      expect(selectCases(chosen)).toEqual(expected);
    }), { numRuns: 200 });
  });
});

describe('shards', () => {
  it('partition a selection: union is everything, disjoint, sizes differ by at most one (property)', () => {
    const selection = fc.record({
      sources: fc.option(fc.subarray(['postgres', 'mssql', 'clickhouse', 'rest_api', 'kafka'], { minLength: 1 }), { nil: undefined }),
    });
    fc.assert(fc.property(selection, fc.integer({ min: 1, max: 17 }), (base, count) => {
      const all = selectCases(base).map((c) => c.id);
      const shards = Array.from({ length: count }, (_, i) => selectCases({ ...base, shard: { index: i + 1, count } }).map((c) => c.id));
      const union = shards.flat();
      expect(union).toHaveLength(all.length);
      expect(new Set(union)).toEqual(new Set(all));
      const sizes = shards.map((shard) => shard.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      for (const shard of shards) expect(shard).toEqual(all.filter((id) => shard.includes(id)));
    }), { numRuns: 100 });
  });

  it('interleave, so each shard of the full matrix gets every source family', () => {
    for (let index = 1; index <= 4; index++) {
      const shard = selectCases({ shard: { index, count: 4 } });
      expect(shard).toHaveLength(50);
      expect(new Set(shard.map((c) => c.source)).size).toBe(5);
    }
  });
});

describe('parseShard', () => {
  it('parses i/n', () => {
    expect(parseShard('1/1')).toEqual({ index: 1, count: 1 });
    expect(parseShard(' 3/4 ')).toEqual({ index: 3, count: 4 });
  });

  it.each(['0/2', '3/2', '1/0', '1', 'a/b', '-1/2', '1/2/3', '', '1.5/2'])('rejects %j naming --shard', (text) => {
    const error = catchUsageError(() => parseShard(text));
    expect(error.field).toBe('--shard');
    expect(error.message).toContain(`"${text}"`);
  });

  it('names the field it is given', () => {
    expect(catchUsageError(() => parseShard('9/2', SELECTION_ENV.shard)).field).toBe('DPONE_MATRIX_SHARD');
  });
});

describe('splitList', () => {
  it('trims items and drops empty ones', () => {
    expect(splitList('a, b ,,c ')).toEqual(['a', 'b', 'c']);
    expect(splitList(' , ')).toBeUndefined();
    expect(splitList('')).toBeUndefined();
    expect(splitList(undefined)).toBeUndefined();
  });
});

describe('validateSelection', () => {
  it('accepts known ids, families and strategies', () => {
    expect(() => validateSelection({ caseIds: ['postgres_to_mssql__xmin'], sources: ['rest_api'], sinks: ['bigquery'], strategies: ['scd2'] })).not.toThrow();
  });

  it.each([
    [{ caseIds: ['postgres_to_mssql__xmin', 'nope'] }, '--case', /unknown case id "nope"/],
    [{ caseIds: ['kafka_to_kafka__scd2'] }, '--case', /kafka_to_kafka__scd2/],
    [{ sources: ['oracle'] }, '--source', /unknown source "oracle" \(known: postgres, mssql, clickhouse, rest_api, kafka\)/],
    [{ sinks: ['snowflake'] }, '--sink', /unknown sink "snowflake"/],
    [{ sources: ['bigquery'] }, '--source', /unknown source "bigquery"/],
    [{ strategies: ['upsert'] }, '--strategy', /unknown strategy "upsert"/],
  ] as const)('%j → UsageError naming %s', (selection, field, message) => {
    const error = catchUsageError(() => validateSelection(selection));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });

  it('names the env variables when told to', () => {
    const error = catchUsageError(() => validateSelection({ sinks: ['x'] }, { sinks: 'DPONE_MATRIX_SINK' }));
    expect(error.field).toBe('DPONE_MATRIX_SINK');
  });
});

describe('selection env', () => {
  it('uses the runbook variable names', () => {
    expect(SELECTION_ENV).toEqual({
      caseIds: 'DPONE_MATRIX_CASE_ID', sources: 'DPONE_MATRIX_SOURCE', sinks: 'DPONE_MATRIX_SINK',
      strategies: 'DPONE_MATRIX_STRATEGY', shard: 'DPONE_MATRIX_SHARD',
    });
  });

  it('an empty env selects everything', () => {
    const selection = selectionFromEnv({});
    expect(selection).toEqual({ caseIds: undefined, sources: undefined, sinks: undefined, strategies: undefined, shard: undefined });
    expect(selectCases(selection)).toHaveLength(200);
  });

  it('reads lists and the shard', () => {
    expect(selectionFromEnv({ DPONE_MATRIX_CASE_ID: 'mssql_to_clickhouse__replace', DPONE_MATRIX_SHARD: '1/3' }))
      .toMatchObject({ caseIds: ['mssql_to_clickhouse__replace'], shard: { index: 1, count: 3 } });
  });

  it('round-trips through selectionToEnv (property)', () => {
    const subset = <T>(values: readonly T[]) => fc.option(fc.subarray([...values], { minLength: 1 }), { nil: undefined });
    const selection = fc.record({
      caseIds: subset(MATRIX.slice(0, 40).map((c) => c.id)),
      sources: subset(['postgres', 'mssql', 'clickhouse', 'rest_api', 'kafka']),
      sinks: subset(['mssql', 'postgres', 'clickhouse', 'bigquery', 'kafka']),
      strategies: subset(['full_refresh', 'incremental_append', 'cdc', 'xmin']),
      shard: fc.option(fc.integer({ min: 1, max: 9 }).chain((count) => fc.record({ index: fc.integer({ min: 1, max: count }), count: fc.constant(count) })), { nil: undefined }),
    });
    fc.assert(fc.property(selection, (original) => {
      const env = selectionToEnv(original);
      for (const name of Object.keys(env)) expect(Object.values(SELECTION_ENV)).toContain(name);
      expect(selectionFromEnv(env)).toEqual(original);
    }), { numRuns: 200 });
  });

  it('reports bad env values under the variable name', () => {
    expect(catchUsageError(() => selectionFromEnv({ DPONE_MATRIX_CASE_ID: 'nope' })).field).toBe('DPONE_MATRIX_CASE_ID');
    expect(catchUsageError(() => selectionFromEnv({ DPONE_MATRIX_SOURCE: 'oracle' })).field).toBe('DPONE_MATRIX_SOURCE');
    expect(catchUsageError(() => selectionFromEnv({ DPONE_MATRIX_SINK: 'oracle' })).field).toBe('DPONE_MATRIX_SINK');
    expect(catchUsageError(() => selectionFromEnv({ DPONE_MATRIX_STRATEGY: 'upsert' })).field).toBe('DPONE_MATRIX_STRATEGY');
    expect(catchUsageError(() => selectionFromEnv({ DPONE_MATRIX_SHARD: '5/4' })).field).toBe('DPONE_MATRIX_SHARD');
  });
});

describe('describeSelection', () => {
  it('renders a selection as the flags that express it', () => {
    expect(describeSelection({ sources: ['kafka'], sinks: ['kafka'], strategies: ['scd2', 'backfill'], shard: { index: 1, count: 2 } }))
      .toBe('--source kafka --sink kafka --strategy scd2,backfill --shard 1/2');
    expect(describeSelection({})).toBe('the whole matrix');
  });
});
