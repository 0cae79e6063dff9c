import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MATRIX } from '../matrix/registry.ts';
import type { RunSummary } from '../matrix/results.ts';
import { dispositionFor } from '../matrix/run-modes.ts';
import { buildCertificationReport } from './certification-report.ts';
import { sampleRunSummary } from './sample-run-summary.ts';
import { writeRunReports } from './write-run-reports.ts';

const FAILED = ['postgres_to_mssql__scd2', 'kafka_to_kafka__incremental_append'];
const BIGQUERY_IDS = MATRIX.filter((matrixCase) => matrixCase.sink === 'bigquery').map((matrixCase) => matrixCase.id).sort();
// The reason comes from the run-mode rules, so the test follows their wording.
const BIGQUERY_REASON = (() => {
  for (const matrixCase of MATRIX) {
    const disposition = dispositionFor(matrixCase, 'mock_local');
    if (matrixCase.sink === 'bigquery' && disposition.action === 'skip') return disposition.reason;
  }
  throw new Error('mock_local skips no BigQuery case');
})();

describe('buildCertificationReport', () => {
  const summary = sampleRunSummary({ failed: FAILED });
  const report = buildCertificationReport(summary);

  it('is red with one blocker per failed case, skips listed but not blocking', () => {
    expect(report.schema_version).toBe('dpone.matrix.certification_report.v1');
    expect(report.status).toBe('red');
    expect(report.blockers).toEqual([
      'kafka_to_kafka__incremental_append: checksum_matches_source_snapshot: expected checksum differs from actual',
      'postgres_to_mssql__scd2: checksum_matches_source_snapshot: expected checksum differs from actual',
    ]);
    expect(report.totals).toEqual({
      cases: 200, passed: 155, failed: 2, skipped: 43,
      tests_passed: 312, tests_failed: 2, tests_skipped: 86, tests_not_run: 0, not_selected: 0,
    });
    expect(report.by_status).toEqual({
      passed: { cases: 155, passed: 155, failed: 0, skipped: 0 },
      failed: { cases: 2, passed: 0, failed: 2, skipped: 0 },
      skipped: { cases: 43, passed: 0, failed: 0, skipped: 43 },
    });
  });

  it('counts every strategy, source and sink in canonical order', () => {
    const counts = (cases: number, passed: number, failed: number, skipped: number) => ({ cases, passed, failed, skipped });
    expect(report.by_strategy).toEqual({
      full_refresh: counts(25, 20, 0, 5),
      incremental_append: counts(25, 19, 1, 5),
      incremental_merge: counts(25, 20, 0, 5),
      replace: counts(25, 20, 0, 5),
      snapshot_diff: counts(25, 20, 0, 5),
      partition_replace: counts(20, 15, 0, 5),
      scd2: counts(20, 14, 1, 5),
      backfill: counts(20, 15, 0, 5),
      xmin: counts(5, 4, 0, 1),
      cdc: counts(10, 8, 0, 2),
    });
    expect(Object.keys(report.by_strategy)).toEqual(['full_refresh', 'incremental_append', 'incremental_merge', 'replace',
      'snapshot_diff', 'partition_replace', 'scd2', 'backfill', 'xmin', 'cdc']);
    expect(report.by_source).toEqual({
      postgres: counts(47, 36, 1, 10),
      mssql: counts(42, 33, 0, 9),
      clickhouse: counts(37, 29, 0, 8),
      rest_api: counts(37, 29, 0, 8),
      kafka: counts(37, 28, 1, 8),
    });
    expect(report.by_sink).toEqual({
      mssql: counts(43, 42, 1, 0),
      postgres: counts(43, 43, 0, 0),
      clickhouse: counts(43, 43, 0, 0),
      bigquery: counts(43, 0, 0, 43),
      kafka: counts(28, 27, 1, 0),
    });
  });

  it('groups the 43 BigQuery skips under their written reason', () => {
    expect(BIGQUERY_REASON).toContain('BigQuery');
    expect(report.skips).toEqual({ [BIGQUERY_REASON]: BIGQUERY_IDS });
  });

  it('lists cases by id with artifact figures, null where no artifact was written', () => {
    const ids = report.cases.map((reportCase) => reportCase.case_id);
    expect(ids).toEqual([...ids].sort());
    expect(ids).toHaveLength(200);
    expect(report.cases.find((reportCase) => reportCase.case_id === 'postgres_to_mssql__scd2')).toMatchObject({
      source: 'postgres', sink: 'mssql', strategy: 'scd2', status: 'failed', contract: 'passed', behavior: 'failed',
      skip_reason: null, expected_row_count: 11_500, actual_row_count: 11_499,
    });
    const skipped = report.cases.find((reportCase) => reportCase.case_id === 'kafka_to_bigquery__scd2');
    expect(skipped).toMatchObject({
      status: 'skipped', skip_reason: BIGQUERY_REASON, failure: null,
      expected_row_count: null, actual_row_count: null, expected_checksum: null, actual_checksum: null,
      provider: 'none', performance: null,
    });
  });

  it('stays green when cases are only skipped, and counts 400 tests for a full mock_contract run', () => {
    expect(buildCertificationReport(sampleRunSummary()).status).toBe('green');
    const contract = buildCertificationReport(sampleRunSummary({ runMode: 'mock_contract' }));
    expect(contract.status).toBe('green');
    expect(contract.blockers).toEqual([]);
    expect(contract.skips).toEqual({});
    expect(contract.totals).toMatchObject({ cases: 200, passed: 200, tests_passed: 400, tests_skipped: 0 });
  });

  it('is the same document whatever order the outcomes arrive in', () => {
    const reversed: RunSummary = { ...summary, outcomes: [...summary.outcomes].reverse() };
    expect(JSON.stringify(buildCertificationReport(reversed))).toBe(JSON.stringify(report));
  });

  it('keeps zero rows for unselected families and counts unselected matrix cases', () => {
    const postgresOnly = MATRIX.filter((matrixCase) => matrixCase.source !== 'postgres').map((matrixCase) => matrixCase.id);
    const partial = buildCertificationReport(sampleRunSummary({ runMode: 'mock_contract', notSelected: postgresOnly }));
    expect(partial.totals).toMatchObject({ cases: 47, not_selected: 153 });
    expect(partial.by_source.kafka).toEqual({ cases: 0, passed: 0, failed: 0, skipped: 0 });
    expect(Object.keys(partial.by_sink)).toEqual(['mssql', 'postgres', 'clickhouse', 'bigquery', 'kafka']);
  });

  it('counts tests that never ran and reduces messages to one printable line', () => {
    const base = sampleRunSummary({ runMode: 'mock_contract', failed: ['mssql_to_kafka__cdc'] });
    const outcomes = base.outcomes.map((outcome) => (outcome.caseId === 'mssql_to_kafka__cdc'
      ? { ...outcome, contract: 'failed' as const, behavior: 'not_run' as const, failure: '\u001b[31mmanifest\u001b[39m mismatch:\n  guide   missing' }
      : outcome));
    const result = buildCertificationReport({ ...base, outcomes });
    expect(result.totals).toMatchObject({ tests_passed: 398, tests_failed: 1, tests_not_run: 1 });
    expect(result.blockers).toEqual(['mssql_to_kafka__cdc: manifest mismatch: guide missing']);
  });

  it('sorts waivers by family', () => {
    const waived = buildCertificationReport(sampleRunSummary({
      waivers: [{ family: 'mssql', reason: 'no licence on the runner' }, { family: 'kafka', reason: 'broker image unavailable' }],
    }));
    expect(waived.waivers).toEqual([
      { family: 'kafka', reason: 'broker image unavailable' },
      { family: 'mssql', reason: 'no licence on the runner' },
    ]);
  });

  it('rejects a run that lists a case twice', () => {
    const twice: RunSummary = { ...summary, outcomes: [...summary.outcomes, ...summary.outcomes.slice(5, 6)] };
    expect(() => buildCertificationReport(twice)).toThrow(/case \S+ more than once/);
  });
});

describe('writeRunReports', () => {
  it('creates the folder and writes the four reports, JSON with a trailing newline', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dpone-reports-'));
    try {
      const dir = join(root, 'nested', 'reports');
      const summary = sampleRunSummary({ failed: FAILED });
      const paths = await writeRunReports(summary, dir);
      expect(paths).toEqual(['certification_report.json', 'summary.md', 'matrix.svg', 'matrix.html'].map((name) => join(dir, name)));
      const json = await readFile(join(dir, 'certification_report.json'), 'utf8');
      expect(json.endsWith('}\n')).toBe(true);
      expect(json).toBe(`${JSON.stringify(buildCertificationReport(summary), null, 2)}\n`);
      expect(await readFile(join(dir, 'matrix.svg'), 'utf8')).toMatch(/^<svg /);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
