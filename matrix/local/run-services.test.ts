import { describe, expect, it } from 'vitest';
import { catchUsageError } from '../../engine/usage-error.ts';
import { findCase, MATRIX } from '../registry.ts';
import type { MatrixCase } from '../registry.ts';
import { serviceDisposition } from '../run-modes.ts';
import type { RunServices } from './run-services.ts';
import { caseProvider, caseServices, parseWaivers, servicesOf } from './run-services.ts';

function matrixCase(id: string): MatrixCase {
  const found = findCase(id);
  if (!found) throw new Error(`no case ${id}`);
  return found;
}

const UP = { available: true, provider: 'embedded', description: 'local', connection: {} } as const;
const MSSQL_DOWN = { available: false, reasons: ['external: DPONE_IT_MSSQL_PORT_FORWARD is not set', 'embedded: SQL Server has no embedded form'] } as const;
const SERVICES: RunServices = { postgres: UP, clickhouse: UP, kafka: UP, mssql: MSSQL_DOWN };

describe('servicesOf', () => {
  it('names the services of both ends; REST needs none, Kafka only the broker', () => {
    expect(servicesOf(matrixCase('postgres_to_mssql__incremental_merge'))).toEqual(['postgres', 'mssql']);
    expect(servicesOf(matrixCase('rest_api_to_postgres__full_refresh'))).toEqual(['postgres']);
    expect(servicesOf(matrixCase('kafka_to_kafka__replace'))).toEqual(['kafka']);
  });

  it('67 local cases need MSSQL and 90 run on PostgreSQL, ClickHouse, Kafka and the REST mock alone', () => {
    const local = MATRIX.filter((candidate) => candidate.localServiceSupported);
    expect(local).toHaveLength(157);
    expect(local.filter((candidate) => servicesOf(candidate).includes('mssql'))).toHaveLength(67);
  });
});

describe('serviceDisposition', () => {
  const mssqlCase = matrixCase('postgres_to_mssql__incremental_merge');

  it('runs a case whose services are all up', () => {
    expect(serviceDisposition(matrixCase('postgres_to_clickhouse__scd2'), 'real_local', SERVICES, [])).toEqual({ action: 'run' });
  });

  it('mock_local skips a case with a missing service, giving every reason', () => {
    const disposition = serviceDisposition(mssqlCase, 'mock_local', SERVICES, []);
    expect(disposition.action).toBe('skip');
    expect(disposition.action === 'skip' && disposition.reason).toBe(
      'MSSQL unavailable (external: DPONE_IT_MSSQL_PORT_FORWARD is not set; embedded: SQL Server has no embedded form)');
  });

  it('real_local blocks it unless waived, and a waived skip names the waiver', () => {
    const blocked = serviceDisposition(mssqlCase, 'real_local', SERVICES, []);
    expect(blocked).toMatchObject({ action: 'blocked', services: ['mssql'] });
    expect(blocked.action === 'blocked' && blocked.reason).toMatch(/^MSSQL blocks real_local: .*--waive mssql$/);
    const waived = serviceDisposition(mssqlCase, 'real_local', SERVICES, ['mssql']);
    expect(waived.action === 'skip' && waived.reason).toMatch(/^waived \(--waive mssql\): MSSQL unavailable/);
  });

  it('a BigQuery sink keeps its documented-contract skip whatever the services', () => {
    const disposition = serviceDisposition(matrixCase('postgres_to_bigquery__scd2'), 'real_local', {}, []);
    expect(disposition.action === 'skip' && disposition.reason).toContain('BigQuery');
  });
});

describe('parseWaivers', () => {
  it('accepts a comma-separated list of services, once each', () => {
    expect(parseWaivers('mssql, kafka,mssql')).toEqual(['mssql', 'kafka']);
    expect(parseWaivers(undefined)).toEqual([]);
  });

  it('an unknown service is a usage error naming the flag', () => {
    const error = catchUsageError(() => parseWaivers('mssql,oracle'));
    expect(error.field).toBe('--waive');
    expect(error.message).toContain('"oracle"');
  });
});

describe('caseProvider', () => {
  it('is the common kind, or service=kind pairs when the ends differ; the REST mock is in-process', () => {
    const mixed: RunServices = { ...SERVICES, kafka: { ...UP, provider: 'external' } };
    expect(caseProvider(caseServices(matrixCase('postgres_to_clickhouse__replace'), SERVICES))).toBe('embedded');
    expect(caseProvider(caseServices(matrixCase('postgres_to_kafka__replace'), mixed))).toBe('postgres=embedded, kafka=external');
    expect(caseProvider(caseServices(matrixCase('rest_api_to_postgres__replace'), SERVICES))).toBe('postgres=embedded, rest_mock=in_process');
  });
});
