import { describe, expect, it } from 'vitest';
import { STRATEGY_NAMES } from '../engine/strategies/index.ts';
import type { SinkFamily, SourceFamily } from './families.ts';
import { EXTRA_PACKAGES, SINK_FAMILIES, sinkFamily, SOURCE_FAMILIES, sourceFamily } from './families.ts';
import type { MatrixCase } from './registry.ts';
import { caseId, deriveMatrix, findCase, guidePath, MATRIX } from './registry.ts';
import type { CaseGroup } from './strategy-rules.ts';
import { STRATEGY_RULES } from './strategy-rules.ts';

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

describe('the canonical matrix', () => {
  it('has 200 cases = 100 base + 25 common_diff + 60 db_target + 5 xmin + 10 cdc', () => {
    const sources = 5;
    const sinks = 5;
    const relationalSinks = 4; // mssql, postgres, clickhouse, bigquery
    const expected: Record<CaseGroup, number> = {
      base: sources * sinks * 4,
      common_diff: sources * sinks * 1,
      db_target: sources * relationalSinks * 3,
      xmin: 1 * sinks, // postgres
      cdc: 2 * sinks, // postgres, mssql
    };
    expect(expected).toEqual({ base: 100, common_diff: 25, db_target: 60, xmin: 5, cdc: 10 });
    expect(countBy(MATRIX, (c) => c.group)).toEqual(expected);
    expect(MATRIX).toHaveLength(200);
  });

  it('has the families of DESIGN §2 in canonical order', () => {
    expect(SOURCE_FAMILIES.map((f) => f.name)).toEqual(['postgres', 'mssql', 'clickhouse', 'rest_api', 'kafka']);
    expect(SINK_FAMILIES.map((f) => f.name)).toEqual(['mssql', 'postgres', 'clickhouse', 'bigquery', 'kafka']);
    // Per source: 20 base + 5 diff + 12 db_target = 37, plus 5 xmin (postgres) and 5 cdc (postgres, mssql).
    expect(countBy(MATRIX, (c) => c.source)).toEqual({ postgres: 47, mssql: 42, clickhouse: 37, rest_api: 37, kafka: 37 });
    // Per sink: 20 base + 5 diff + 15 db_target (relational only) + 1 xmin + 2 cdc.
    expect(countBy(MATRIX, (c) => c.sink)).toEqual({ mssql: 43, postgres: 43, clickhouse: 43, bigquery: 43, kafka: 28 });
  });

  it('counts per strategy follow the rules', () => {
    expect(countBy(MATRIX, (c) => c.strategy)).toEqual({
      full_refresh: 25, incremental_append: 25, incremental_merge: 25, replace: 25, snapshot_diff: 25,
      partition_replace: 20, scd2: 20, backfill: 20, xmin: 5, cdc: 10,
    });
    expect(new Set(MATRIX.map((c) => c.strategy))).toEqual(new Set(STRATEGY_NAMES));
  });

  it('has 43 BigQuery-sink cases (4·5 base + 5 diff + 3·5 db_target + 1 xmin + 2 cdc)', () => {
    expect(4 * 5 + 5 + 3 * 5 + 1 + 2).toBe(43);
    expect(MATRIX.filter((c) => c.sink === 'bigquery')).toHaveLength(43);
  });

  it('xmin only from postgres, cdc only from postgres and mssql, db_target never into kafka', () => {
    expect(new Set(MATRIX.filter((c) => c.strategy === 'xmin').map((c) => c.source))).toEqual(new Set(['postgres']));
    expect(new Set(MATRIX.filter((c) => c.strategy === 'cdc').map((c) => c.source))).toEqual(new Set(['postgres', 'mssql']));
    expect(MATRIX.filter((c) => c.group === 'db_target' && c.sink === 'kafka')).toEqual([]);
  });

  it('ids are unique and read <source>_to_<sink>__<strategy>', () => {
    expect(new Set(MATRIX.map((c) => c.id)).size).toBe(200);
    for (const matrixCase of MATRIX) {
      expect(matrixCase.id).toBe(`${matrixCase.source}_to_${matrixCase.sink}__${matrixCase.strategy}`);
      expect(matrixCase.id).toMatch(/^[a-z_]+_to_[a-z]+__[a-z0-9_]+$/);
      expect(findCase(matrixCase.id)).toBe(matrixCase);
    }
    expect(caseId('postgres', 'mssql', 'incremental_merge')).toBe('postgres_to_mssql__incremental_merge');
    expect(findCase('postgres_to_mssql__incremental_merge')?.strategy).toBe('incremental_merge');
    expect(findCase('kafka_to_kafka__scd2')).toBeUndefined();
  });

  it('guides are source-sink/<source>-to-<sink>.md with _ → -, 25 of them', () => {
    expect(guidePath('rest_api', 'kafka')).toBe('source-sink/rest-api-to-kafka.md');
    expect(guidePath('postgres', 'mssql')).toBe('source-sink/postgres-to-mssql.md');
    for (const matrixCase of MATRIX) {
      expect(matrixCase.guide).toBe(`source-sink/${matrixCase.source.replaceAll('_', '-')}-to-${matrixCase.sink.replaceAll('_', '-')}.md`);
      expect(matrixCase.guide).not.toContain('_');
    }
    expect(new Set(MATRIX.map((c) => c.guide)).size).toBe(25);
  });

  it('localServiceSupported is false exactly for BigQuery sinks: 157 local cases', () => {
    for (const matrixCase of MATRIX) expect(matrixCase.localServiceSupported).toBe(matrixCase.sink !== 'bigquery');
    expect(MATRIX.filter((c) => c.localServiceSupported)).toHaveLength(157);
  });

  it('never requires external credentials', () => {
    expect(MATRIX.every((c) => c.externalCredentialsRequired === false)).toBe(true);
  });

  it('install extras and services include those of both families, without duplicates', () => {
    for (const matrixCase of MATRIX) {
      const source = sourceFamily(matrixCase.source);
      const sink = sinkFamily(matrixCase.sink);
      expect(matrixCase.installExtras).toContain(source.extra);
      expect(matrixCase.installExtras).toContain(sink.extra);
      expect(new Set(matrixCase.installExtras).size).toBe(matrixCase.installExtras.length);
      for (const extra of matrixCase.installExtras) expect(EXTRA_PACKAGES).toHaveProperty(extra);
      for (const service of [...source.services, ...sink.services]) expect(matrixCase.services).toContain(service);
      expect(new Set(matrixCase.services).size).toBe(matrixCase.services.length);
    }
    expect(findCase('postgres_to_postgres__full_refresh')?.installExtras).toEqual(['postgres']);
    expect(findCase('rest_api_to_kafka__replace')?.installExtras).toEqual(['rest_api', 'kafka']);
    expect(findCase('rest_api_to_kafka__replace')?.services).toEqual(['rest_mock', 'kafka', 'schema_registry']);
  });

  it('profiles: every case in mock_contract; local modes unless BigQuery; vendor_live when a managed family is involved', () => {
    for (const matrixCase of MATRIX) {
      expect(matrixCase.profiles).toContain('mock_contract');
      expect(matrixCase.profiles.includes('mock_local')).toBe(matrixCase.localServiceSupported);
      expect(matrixCase.profiles.includes('real_local')).toBe(matrixCase.localServiceSupported);
      const vendor = sourceFamily(matrixCase.source).vendorLive || sinkFamily(matrixCase.sink).vendorLive;
      expect(matrixCase.profiles.includes('vendor_live')).toBe(vendor);
    }
  });

  it('is ordered by source, then sink, then rule order', () => {
    const position = (c: MatrixCase) => [
      SOURCE_FAMILIES.findIndex((f) => f.name === c.source),
      SINK_FAMILIES.findIndex((f) => f.name === c.sink),
      STRATEGY_RULES.flatMap((rule) => rule.strategies).indexOf(c.strategy),
    ];
    for (let i = 1; i < MATRIX.length; i++) {
      const [a, b] = [position(MATRIX[i - 1] as MatrixCase), position(MATRIX[i] as MatrixCase)];
      const compare = (a[0] ?? 0) - (b[0] ?? 0) || (a[1] ?? 0) - (b[1] ?? 0) || (a[2] ?? 0) - (b[2] ?? 0);
      expect(compare).toBeLessThan(0);
    }
    expect(MATRIX[0]?.id).toBe('postgres_to_mssql__full_refresh');
    expect(MATRIX[199]?.id).toBe('kafka_to_kafka__snapshot_diff');
  });

  it('deriveMatrix() with the defaults is the canonical matrix', () => {
    expect(deriveMatrix()).toEqual(MATRIX);
  });
});

describe('adding a family is a small change', () => {
  // MySQL, as the predecessor added it: binlog CDC, no xmin; a relational sink with a local service.
  // (A new family would also add its ServiceName and EXTRA_PACKAGES entry; the rules stay as they are.)
  const mysqlSource: SourceFamily = {
    name: 'mysql', label: 'MySQL', extra: 'mysql', services: [], vendorLive: false,
    capabilities: { incremental: true, xmin: false, cdc: true },
  };
  const mysqlSink: SinkFamily = {
    name: 'mysql', label: 'MySQL', extra: 'mysql', services: [], kind: 'relational', localService: true, vendorLive: false,
  };

  it('a MySQL source and sink give 6 × 6 pairs: 144 + 36 + 90 + 6 + 18 = 294 cases (+94)', () => {
    const matrix = deriveMatrix([...SOURCE_FAMILIES, mysqlSource], [...SINK_FAMILIES, mysqlSink]);
    const sources = 6;
    const sinks = 6;
    const relationalSinks = 5; // + mysql
    const expected: Record<CaseGroup, number> = {
      base: 4 * sources * sinks, // 144
      common_diff: 1 * sources * sinks, // 36
      db_target: 3 * sources * relationalSinks, // 90
      xmin: 1 * sinks, // postgres only: 6
      cdc: 3 * sinks, // postgres, mssql, mysql: 18
    };
    expect(countBy(matrix, (c) => c.group)).toEqual(expected);
    expect(matrix).toHaveLength(294);
    expect(matrix.length - MATRIX.length).toBe(94);
    // BigQuery sink: 4·6 + 6 + 3·6 + 1 + 3 = 52; local cases = 294 − 52 = 242.
    expect(matrix.filter((c) => c.sink === 'bigquery')).toHaveLength(52);
    expect(matrix.filter((c) => c.localServiceSupported)).toHaveLength(242);
    expect(new Set(matrix.map((c) => c.id)).size).toBe(294);
  });

  it('the new cases get ids, guides and extras from the same rules, and old cases are unchanged', () => {
    const matrix = deriveMatrix([...SOURCE_FAMILIES, mysqlSource], [...SINK_FAMILIES, mysqlSink]);
    const mysqlCdc = matrix.find((c) => c.id === 'mysql_to_postgres__cdc');
    expect(mysqlCdc).toMatchObject({ guide: 'source-sink/mysql-to-postgres.md', installExtras: ['mysql', 'postgres'], group: 'cdc' });
    expect(matrix.find((c) => c.id === 'mysql_to_kafka__scd2')).toBeUndefined();
    expect(matrix.find((c) => c.id === 'mysql_to_mysql__xmin')).toBeUndefined();
    expect(matrix.find((c) => c.id === 'postgres_to_mysql__xmin')).toBeDefined();
    const byId = new Map(matrix.map((c) => [c.id, c]));
    for (const matrixCase of MATRIX) expect(byId.get(matrixCase.id)).toEqual(matrixCase);
  });

  it('only a sink: 5 × 6 pairs give 120 + 30 + 75 + 6 + 12 = 243 cases (+43)', () => {
    const matrix = deriveMatrix(SOURCE_FAMILIES, [...SINK_FAMILIES, mysqlSink]);
    expect(countBy(matrix, (c) => c.group)).toEqual({ base: 120, common_diff: 30, db_target: 75, xmin: 6, cdc: 12 });
    expect(matrix).toHaveLength(243);
  });
});
