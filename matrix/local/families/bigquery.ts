import type { BigQueryShape } from '../../../engine/connectors/bigquery/index.ts';
import { BigQueryDriver, BigQuerySink } from '../../../engine/connectors/bigquery/index.ts';
import type { TargetSpec } from '../../../engine/plan/index.ts';
import type { LoadState } from '../../../engine/state/index.ts';
import { sqlText } from '../../../engine/sql/sql-statement.ts';
import type { SourceFixture } from '../../../fixtures/source-fixture.ts';
import type { Env } from '../../../fixtures/services/provider.ts';
import { importServicePackage } from '../../../fixtures/services/services-package.ts';
import type { SeededSink, SinkHarness } from '../family-harness.ts';
import { once, seededTableSink } from '../family-harness.ts';
import { missingVendorEnv, VENDOR_ENDPOINTS } from '../vendor-env.ts';

/** The environment vendor_live reads for BigQuery (the vendor-env contract, shared with the gate). */
export const BIGQUERY_LIVE_ENV = VENDOR_ENDPOINTS.bigquery;

/** The client options the harness sets; credentials come from the environment only. */
interface BigQueryClientOptions {
  readonly projectId: string;
  readonly location?: string;
  readonly keyFilename?: string;
  readonly credentials?: Readonly<Record<string, unknown>>;
}

interface BigQueryModule {
  readonly BigQuery: new (options: BigQueryClientOptions) => BigQueryShape;
}

/**
 * The client options from the environment: project, optional location, and either the service
 * account JSON (`DPONE_LIVE_BIGQUERY_CREDENTIALS_JSON`, parsed in memory, never written or logged)
 * or a key file (`GOOGLE_APPLICATION_CREDENTIALS`). Throws naming what is missing, never a value.
 */
export function bigQueryClientOptions(env: Env): BigQueryClientOptions {
  const missing = missingVendorEnv('bigquery', env);
  if (missing.length > 0) throw new Error(`BigQuery live environment incomplete: set ${missing.join(', ')}`);
  const projectId = (env.DPONE_LIVE_BIGQUERY_PROJECT ?? '').trim();
  const location = env.DPONE_LIVE_BIGQUERY_LOCATION?.trim();
  const json = env.DPONE_LIVE_BIGQUERY_CREDENTIALS_JSON?.trim();
  let credentials: Record<string, unknown> | undefined;
  if (json) {
    try {
      credentials = JSON.parse(json) as Record<string, unknown>;
    } catch {
      // The parser's message would quote the secret.
      throw new Error('DPONE_LIVE_BIGQUERY_CREDENTIALS_JSON is not valid JSON');
    }
  }
  const keyFilename = env.GOOGLE_APPLICATION_CREDENTIALS?.trim();
  return {
    projectId,
    ...(location ? { location } : {}),
    ...(credentials ? { credentials } : keyFilename ? { keyFilename } : {}),
  };
}

/**
 * BigQuery as a sink in vendor_live: one client built from the environment (see
 * `bigQueryClientOptions`); each case gets tables prefixed `<ns>__` inside the dataset, its target
 * seeded with the scenario's target-before rows and the base cursor committed to
 * `<dataset>.__dpone__loads`. `release` drops the case's tables and state row and ends its session.
 */
export async function bigQuerySinkHarness(env: Env = process.env): Promise<SinkHarness> {
  const options = bigQueryClientOptions(env);
  const dataset = (env.DPONE_LIVE_BIGQUERY_DATASET ?? '').trim();
  const loaded = await importServicePackage<{ default?: BigQueryModule } & Partial<BigQueryModule>>('@google-cloud/bigquery');
  const { BigQuery } = (loaded.default ?? loaded) as BigQueryModule;
  const client = new BigQuery(options);
  return {
    family: 'bigquery',
    services: [],
    async seedSink(fixture: SourceFixture, target: TargetSpec, ns: string, pipeline: string, baseCursor: LoadState): Promise<SeededSink> {
      const driver = new BigQueryDriver(client, options.location ? { location: options.location } : {});
      const prefix = `${ns}__`;
      const sink = new BigQuerySink(driver, { dataset, tablePrefix: prefix });
      const release = once(async () => {
        try {
          const tables = await driver.query({
            sql: `SELECT table_name FROM ${sink.dialect.quote(dataset)}.INFORMATION_SCHEMA.TABLES WHERE STARTS_WITH(table_name, @p1)`, params: [prefix],
          });
          for (const [table] of tables) await driver.query(sqlText(`DROP TABLE IF EXISTS ${sink.dialect.qualified({ schema: dataset, name: String(table) })}`));
          await driver.query({ sql: `DELETE FROM ${sink.dialect.qualified(sink.names().state)} WHERE ${sink.dialect.quote('pipeline')} = @p1`, params: [pipeline] });
        } finally {
          await sink.close();
        }
      });
      return seededTableSink(sink, release, { fixture, target, pipeline, baseCursor }, (into, columns, rows) => sink.loadRows(into, columns, rows));
    },
    close: async () => undefined,
  };
}
