import { UsageError } from '../../engine/usage-error.ts';
import type { Env, ProvidedService, ProviderKind, ServiceHandle, ServiceProvider } from '../../fixtures/services/provider.ts';
import { PROVIDED_SERVICES, resolveService } from '../../fixtures/services/provider.ts';
import { sinkFamily, sourceFamily } from '../families.ts';
import type { MatrixCase } from '../registry.ts';
import type { CaseServiceUse } from '../results.ts';
import type { VendorFamily } from './vendor-env.ts';
import { vendorFamiliesOf } from './vendor-env.ts';

/** Env variable carrying the resolved services from the run to its vitest workers (JSON). */
export const RUN_SERVICES_ENV = 'DPONE_MATRIX_SERVICES';
/** Env variable naming waived services (the CLI sets it from --waive). */
export const WAIVE_ENV = 'DPONE_MATRIX_WAIVE';

/** How a service stands for this run: reachable through a provider, or not, with every reason. */
export type ServiceAvailability =
  | { readonly available: true; readonly provider: ProviderKind | 'vendor'; readonly description: string; readonly connection: unknown }
  | { readonly available: false; readonly reasons: readonly string[] };

/** Keyed by service: the local ones (`postgres`, …) and, in vendor_live, `kafka`/`bigquery` from env. */
export type RunServices = Readonly<Record<string, ServiceAvailability>>;

const SERVICE_LABELS: Readonly<Record<ProvidedService, string>> = {
  postgres: 'PostgreSQL', clickhouse: 'ClickHouse', kafka: 'Kafka', mssql: 'MSSQL',
};

/**
 * The managed services of vendor_live, from the environment only (checked complete beforehand).
 * Descriptions name the endpoint, never a credential; connections stay in memory and in the env
 * handed to the run's own workers.
 */
export async function vendorServices(families: readonly VendorFamily[], env: Env): Promise<Record<string, ServiceAvailability>> {
  const services: Record<string, ServiceAvailability> = {};
  if (families.includes('kafka')) {
    const { liveKafkaConnection } = await import('../../fixtures/services/kafka-providers.ts');
    const connection = liveKafkaConnection(env);
    services.kafka = {
      available: true, provider: 'vendor', connection,
      description: `managed Kafka at ${connection.bootstrapServers}${connection.sasl ? ` (SASL ${connection.sasl.mechanism}${connection.ssl ? ', TLS' : ''})` : ''}`,
    };
  }
  if (families.includes('bigquery')) {
    services.bigquery = {
      available: true, provider: 'vendor', connection: null,
      description: `BigQuery project ${env.DPONE_LIVE_BIGQUERY_PROJECT ?? '?'}, dataset ${env.DPONE_LIVE_BIGQUERY_DATASET ?? '?'}`,
    };
  }
  return services;
}

function isProvidedService(name: string): name is ProvidedService {
  return (PROVIDED_SERVICES as readonly string[]).includes(name);
}

/** The local services a case loads through (REST runs in-process; the schema registry is optional). */
export function servicesOf(matrixCase: MatrixCase): ProvidedService[] {
  const names = [...sourceFamily(matrixCase.source).services, ...sinkFamily(matrixCase.sink).services];
  return PROVIDED_SERVICES.filter((service) => names.some((name) => name === service));
}

/** Every service a case needs in a mode: its local services, and in vendor_live its managed ones. */
export function caseServiceNames(matrixCase: MatrixCase, vendor: boolean): string[] {
  const names: string[] = servicesOf(matrixCase);
  if (vendor) for (const family of vendorFamiliesOf(matrixCase)) if (!names.includes(family)) names.push(family);
  return names;
}

/** The services a case used, with their providers; the REST mock runs inside the worker. */
export function caseServices(matrixCase: MatrixCase, services: RunServices): Record<string, CaseServiceUse> {
  const uses: Record<string, CaseServiceUse> = {};
  for (const service of caseServiceNames(matrixCase, true)) {
    const availability = services[service];
    if (availability?.available) uses[service] = { provider: availability.provider, description: availability.description };
  }
  if (matrixCase.source === 'rest_api') uses.rest_mock = { provider: 'in_process', description: 'REST mock API on 127.0.0.1 inside the worker' };
  return uses;
}

/** One provider name for a case: the common kind, or `service=kind` pairs when they differ. */
export function caseProvider(uses: Readonly<Record<string, CaseServiceUse>>): string {
  const kinds = [...new Set(Object.values(uses).map((use) => use.provider))];
  return kinds.length === 1 ? (kinds[0] as string) : Object.entries(uses).map(([service, use]) => `${service}=${use.provider}`).join(', ');
}

/** Parses `--waive mssql,kafka` (or `DPONE_MATRIX_WAIVE`); an unknown service is a usage error. */
export function parseWaivers(text: string | undefined, field = '--waive'): ProvidedService[] {
  const names = (text ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  for (const name of names) {
    if (!isProvidedService(name)) throw new UsageError(field, `unknown service "${name}" (known: ${PROVIDED_SERVICES.join(', ')})`);
  }
  return [...new Set(names as ProvidedService[])];
}

/** One line per unavailable service: `MSSQL unavailable (external: …; embedded: …)`. */
export function unavailableText(service: string, availability: ServiceAvailability): string {
  return availability.available ? '' : `${serviceLabel(service)} unavailable (${availability.reasons.join('; ')})`;
}

/** The label of a service for messages (`MSSQL`, `PostgreSQL`, …; managed ones by name). */
export function serviceLabel(service: string): string {
  return isProvidedService(service) ? SERVICE_LABELS[service] : service;
}

/** The providers of every service, loaded lazily so that mock_contract never imports them. */
async function providersOf(service: ProvidedService): Promise<readonly ServiceProvider<unknown>[]> {
  switch (service) {
    case 'postgres': return (await import('../../fixtures/services/postgres-providers.ts')).POSTGRES_PROVIDERS;
    case 'clickhouse': return (await import('../../fixtures/services/clickhouse-providers.ts')).CLICKHOUSE_PROVIDERS;
    case 'kafka': return (await import('../../fixtures/services/kafka-providers.ts')).KAFKA_PROVIDERS;
    case 'mssql': return (await import('../../fixtures/services/mssql-providers.ts')).MSSQL_PROVIDERS;
  }
}

/** Services resolved for a run, and the way to stop the ones it started. */
export interface StartedServices {
  readonly services: RunServices;
  stop(): Promise<void>;
}

/**
 * Resolves every service the cases need (in parallel, each in the provider order of DESIGN §6) and
 * reports each one as it becomes ready. Services that could not be provided are returned with
 * their reasons; `stop` ends everything that was started, and is safe after a partial start.
 */
export async function startRunServices(needed: readonly ProvidedService[], env: Env, progress: (line: string) => void): Promise<StartedServices> {
  const handles: ServiceHandle<unknown>[] = [];
  const entries = await Promise.all(needed.map(async (service): Promise<[ProvidedService, ServiceAvailability]> => {
    const started = performance.now();
    const resolution = await resolveService(service, await providersOf(service), env);
    if (!resolution.ok) {
      progress(`services: ${SERVICE_LABELS[service]} unavailable — ${resolution.reasons.join('; ')}`);
      return [service, { available: false, reasons: resolution.reasons }];
    }
    const { handle } = resolution;
    handles.push(handle);
    progress(`services: ${SERVICE_LABELS[service]} ready via ${handle.provider} (${handle.description}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return [service, { available: true, provider: handle.provider, description: handle.description, connection: handle.connection }];
  }));
  let stopped = false;
  return {
    services: Object.fromEntries(entries),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      const failures: string[] = [];
      for (const handle of handles.reverse()) {
        await handle.stop().catch((error: unknown) => failures.push(`${handle.service}: ${error instanceof Error ? error.message : String(error)}`));
      }
      if (failures.length > 0) progress(`services: stop failed for ${failures.join('; ')}`);
    },
  };
}

/** The services a worker was given by its run (`DPONE_MATRIX_SERVICES`); throws when it was not. */
export function runServicesFromEnv(env: Env = process.env): RunServices {
  const text = env[RUN_SERVICES_ENV];
  if (!text) throw new Error(`local modes start their services in \`pnpm matrix --mode …\`, which passes them to the suites in ${RUN_SERVICES_ENV}; run the matrix through it`);
  return JSON.parse(text) as RunServices;
}

/** A handle for a service the run owns: workers use its connection and never stop it. */
export function borrowedHandle(service: ProvidedService, availability: ServiceAvailability & { available: true }): ServiceHandle<unknown> {
  return { service, provider: availability.provider, description: availability.description, connection: availability.connection, stop: async () => undefined };
}
