import type { SourceCapabilities } from '../engine/connectors/index.ts';
import type { SinkKind } from '../engine/strategies/index.ts';

/** A service a case needs in local modes; `rest_mock` runs in-process, `bigquery` only as a vendor. */
export type ServiceName = 'postgres' | 'mssql' | 'clickhouse' | 'kafka' | 'schema_registry' | 'rest_mock' | 'bigquery';

export interface SourceFamily {
  readonly name: string;
  readonly label: string;
  /** Install extra (optional driver packages, see EXTRA_PACKAGES) the family needs. */
  readonly extra: string;
  readonly services: readonly ServiceName[];
  readonly capabilities: SourceCapabilities;
  /** Reached through a managed endpoint in vendor_live (real APIs, managed Kafka). */
  readonly vendorLive: boolean;
}

export interface SinkFamily {
  readonly name: string;
  readonly label: string;
  readonly extra: string;
  readonly services: readonly ServiceName[];
  readonly kind: SinkKind;
  /** False when no local service or emulator exists (BigQuery): local modes skip these cases. */
  readonly localService: boolean;
  readonly vendorLive: boolean;
}

/** Source families, in canonical order. Adding a family is one entry here plus its connector folder. */
export const SOURCE_FAMILIES: readonly SourceFamily[] = [
  { name: 'postgres', label: 'PostgreSQL', extra: 'postgres', services: ['postgres'], vendorLive: false,
    capabilities: { incremental: true, xmin: true, cdc: true } },
  { name: 'mssql', label: 'SQL Server', extra: 'mssql', services: ['mssql'], vendorLive: false,
    capabilities: { incremental: true, xmin: false, cdc: true } },
  { name: 'clickhouse', label: 'ClickHouse', extra: 'clickhouse', services: ['clickhouse'], vendorLive: false,
    capabilities: { incremental: true, xmin: false, cdc: false } },
  { name: 'rest_api', label: 'REST API', extra: 'rest_api', services: ['rest_mock'], vendorLive: true,
    capabilities: { incremental: true, xmin: false, cdc: false } },
  { name: 'kafka', label: 'Kafka', extra: 'kafka', services: ['kafka', 'schema_registry'], vendorLive: true,
    capabilities: { incremental: true, xmin: false, cdc: false } },
];

/** Sink families, in canonical order. */
export const SINK_FAMILIES: readonly SinkFamily[] = [
  { name: 'mssql', label: 'SQL Server', extra: 'mssql', services: ['mssql'], kind: 'relational', localService: true, vendorLive: false },
  { name: 'postgres', label: 'PostgreSQL', extra: 'postgres', services: ['postgres'], kind: 'relational', localService: true, vendorLive: false },
  { name: 'clickhouse', label: 'ClickHouse', extra: 'clickhouse', services: ['clickhouse'], kind: 'relational', localService: true, vendorLive: false },
  { name: 'bigquery', label: 'BigQuery', extra: 'bigquery', services: ['bigquery'], kind: 'relational', localService: false, vendorLive: true },
  { name: 'kafka', label: 'Kafka', extra: 'kafka', services: ['kafka', 'schema_registry'], kind: 'event_log', localService: true, vendorLive: true },
];

/** Optional driver packages behind each install extra; none of them is loaded in mock_contract. */
export const EXTRA_PACKAGES: Readonly<Record<string, readonly string[]>> = {
  postgres: ['pg', 'pg-copy-streams'],
  mssql: ['mssql'],
  clickhouse: ['@clickhouse/client'],
  bigquery: ['@google-cloud/bigquery'],
  kafka: ['kafkajs'],
  rest_api: [],
};

export function sourceFamily(name: string): SourceFamily {
  const family = SOURCE_FAMILIES.find((candidate) => candidate.name === name);
  if (!family) throw new Error(`unknown source family ${name}`);
  return family;
}

export function sinkFamily(name: string): SinkFamily {
  const family = SINK_FAMILIES.find((candidate) => candidate.name === name);
  if (!family) throw new Error(`unknown sink family ${name}`);
  return family;
}
