import type { ProvidedService, ServiceHandle } from '../../fixtures/services/provider.ts';
import type { SinkHarness, SourceHarness } from './family-harness.ts';
import type { RunServices } from './run-services.ts';
import { borrowedHandle } from './run-services.ts';

/* Each connection was produced by its service's own providers, so a family gets the type it expects. */
type Handle = ServiceHandle<never>;

const SOURCE_HARNESSES: Readonly<Record<string, (handle: Handle | undefined) => Promise<SourceHarness>>> = {
  postgres: async (handle) => (await import('./families/postgres.ts')).postgresSourceHarness(required(handle)),
  mssql: async (handle) => (await import('./families/mssql.ts')).mssqlSourceHarness(required(handle)),
  clickhouse: async (handle) => (await import('./families/clickhouse.ts')).clickHouseSourceHarness(required(handle)),
  rest_api: async () => (await import('./families/rest-api.ts')).restApiSourceHarness(),
  kafka: async (handle) => (await import('./families/kafka.ts')).kafkaSourceHarness(required(handle)),
};

const SINK_HARNESSES: Readonly<Record<string, (handle: Handle | undefined) => Promise<SinkHarness>>> = {
  postgres: async (handle) => (await import('./families/postgres.ts')).postgresSinkHarness(required(handle)),
  mssql: async (handle) => (await import('./families/mssql.ts')).mssqlSinkHarness(required(handle)),
  clickhouse: async (handle) => (await import('./families/clickhouse.ts')).clickHouseSinkHarness(required(handle)),
  kafka: async (handle) => (await import('./families/kafka.ts')).kafkaSinkHarness(required(handle)),
  // vendor_live only: the client is built from DPONE_LIVE_BIGQUERY_* in the worker's environment.
  bigquery: async () => (await import('./families/bigquery.ts')).bigQuerySinkHarness(process.env),
};

/** The family's own service (the connector family and its service share a name; REST needs none). */
const FAMILY_SERVICE: Readonly<Record<string, ProvidedService | undefined>> = {
  postgres: 'postgres', mssql: 'mssql', clickhouse: 'clickhouse', kafka: 'kafka', rest_api: undefined, bigquery: undefined,
};

function required(handle: Handle | undefined): Handle {
  if (!handle) throw new Error('this family needs a service the run did not provide');
  return handle;
}

/**
 * The source and sink harnesses of one worker process, one per family, created on first use and
 * closed together at the end of the worker's suites.
 */
export class HarnessPool {
  private readonly sources = new Map<string, Promise<SourceHarness>>();
  private readonly sinks = new Map<string, Promise<SinkHarness>>();

  constructor(private readonly services: RunServices) {}

  source(family: string): Promise<SourceHarness> {
    return this.get(this.sources, SOURCE_HARNESSES, family, 'source');
  }

  sink(family: string): Promise<SinkHarness> {
    return this.get(this.sinks, SINK_HARNESSES, family, 'sink');
  }

  /** Closes every harness created; the services themselves belong to the run. */
  async close(): Promise<void> {
    const all = [...this.sources.values(), ...this.sinks.values()];
    this.sources.clear();
    this.sinks.clear();
    for (const harness of await Promise.allSettled(all)) {
      if (harness.status === 'fulfilled') await harness.value.close();
    }
  }

  private get<H>(cache: Map<string, Promise<H>>, factories: Readonly<Record<string, (handle: Handle | undefined) => Promise<H>>>, family: string, role: string): Promise<H> {
    let harness = cache.get(family);
    if (!harness) {
      const factory = factories[family];
      if (!factory) throw new Error(`no ${role} harness for family ${family}`);
      harness = factory(this.handle(family));
      cache.set(family, harness);
    }
    return harness;
  }

  private handle(family: string): Handle | undefined {
    const service = FAMILY_SERVICE[family];
    if (service === undefined) return undefined;
    const availability = this.services[service];
    if (!availability?.available) throw new Error(`${family} harness needs ${service}, which this run could not provide`);
    return borrowedHandle(service, availability) as Handle;
  }
}
