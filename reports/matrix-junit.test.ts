import { describe, expect, test } from 'vitest';
import { renderMatrixJunit } from './matrix-junit.ts';

describe('matrix JUnit', () => {
  const xml = renderMatrixJunit('mock_local', [
    { caseId: 'postgres_to_bigquery__scd2', source: 'postgres', test: 'behavior', status: 'skipped', note: 'BigQuery is a managed service <no emulator>', error: null, durationMs: 1 },
    { caseId: 'postgres_to_mssql__scd2', source: 'postgres', test: 'behavior', status: 'failed', note: null, error: 'row count: expected 11500', durationMs: 12 },
    { caseId: 'kafka_to_kafka__cdc', source: 'kafka', test: 'contract', status: 'passed', note: null, error: null, durationMs: 3 },
    { caseId: 'kafka_to_kafka__cdc', source: 'kafka', test: 'behavior', status: 'not_run', note: null, error: null, durationMs: 0 },
  ]);

  test('a skipped test carries its reason, escaped', () => {
    expect(xml).toMatch(/<testcase classname="postgres_to_bigquery__scd2" name="behavior"[^>]*>[\s\S]*?<skipped\/>/);
    expect(xml).toContain('<property name="skip_reason" value="BigQuery is a managed service &lt;no emulator>"/>');
    expect(xml).toContain('<system-out><![CDATA[skipped: BigQuery is a managed service <no emulator>]]></system-out>');
  });

  test('failures, missing tests and suites per source family are reported', () => {
    expect(xml).toContain('<failure message="row count: expected 11500"');
    expect(xml).toContain('<error message="the test did not run"');
    expect(xml).toContain('name="dpone matrix mock_local · postgres"');
    expect(xml).toContain('name="dpone matrix mock_local · kafka"');
    expect(xml).toMatch(/<testsuites[^>]*tests="4"[^>]*failures="1"[^>]*errors="1"[^>]*skipped="1"/);
  });
});
