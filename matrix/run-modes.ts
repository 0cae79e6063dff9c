import type { ProvidedService } from '../fixtures/services/provider.ts';
import type { VolumeProfile } from '../fixtures/volume-profile.ts';
import { DEFAULT_PROFILE } from '../fixtures/volume-profile.ts';
import type { MatrixCase, RunMode } from './registry.ts';
import type { RunServices } from './local/run-services.ts';
import { caseServiceNames, serviceLabel, unavailableText } from './local/run-services.ts';
import { vendorFamiliesOf } from './local/vendor-env.ts';
import { RUN_MODES } from './registry.ts';
import { sinkFamily } from './families.ts';

/** What a mode does with a case: run it, or skip it with a written reason. */
export type CaseDisposition =
  | { readonly action: 'run' }
  | { readonly action: 'skip'; readonly reason: string };

export interface RunModeInfo {
  readonly mode: RunMode;
  readonly summary: string;
  readonly services: string;
  readonly credentials: boolean;
}

export const RUN_MODE_INFO: Readonly<Record<RunMode, RunModeInfo>> = {
  mock_contract: { mode: 'mock_contract', credentials: false, services: 'none (in-memory connectors)',
    summary: 'all 200 cases: a contract test and a behavior test each, against in-memory sources and sinks' },
  mock_local: { mode: 'mock_local', credentials: false, services: 'local services when reachable',
    summary: 'the cases with a local service, through real connectors at small volume; a missing service is a written skip' },
  real_local: { mode: 'real_local', credentials: false, services: 'local services, release grade',
    summary: 'the same cases at release volume with performance, state and reconciliation evidence; a missing service is red unless waived' },
  vendor_live: { mode: 'vendor_live', credentials: true, services: 'managed endpoints given by env',
    summary: 'cases that need managed services (BigQuery, managed Kafka, real APIs), credentials from env only' },
};

/**
 * Rows per case when neither flag nor env sets them: mock_local is a quick check of the real
 * connectors, real_local runs at release volume (DESIGN §3).
 */
export const MODE_DEFAULT_PROFILES: Readonly<Record<RunMode, VolumeProfile>> = {
  mock_contract: DEFAULT_PROFILE,
  mock_local: { ...DEFAULT_PROFILE, rows: 2_000 },
  real_local: { ...DEFAULT_PROFILE, rows: 25_000 },
  vendor_live: DEFAULT_PROFILE,
};

export function isRunMode(value: string): value is RunMode {
  return (RUN_MODES as readonly string[]).includes(value);
}

/** Whether a mode runs a case, and the reason when it does not. */
export function dispositionFor(matrixCase: MatrixCase, mode: RunMode): CaseDisposition {
  if (mode === 'mock_contract') return { action: 'run' };
  if (mode === 'vendor_live') {
    if (!matrixCase.profiles.includes('vendor_live')) return { action: 'skip', reason: 'no managed service involved: this case is certified by real_local' };
    // A live API cannot be seeded with the matrix fixture, so REST reads come from the in-process
    // mock in every mode: a REST case with no other managed service has nothing vendor-specific to prove.
    return vendorFamiliesOf(matrixCase).length > 0
      ? { action: 'run' }
      : { action: 'skip', reason: 'the REST source is read from the in-process mock API in every mode (a live API cannot be seeded with the fixture): this case is certified by real_local' };
  }
  if (!matrixCase.localServiceSupported) {
    const sink = sinkFamily(matrixCase.sink);
    return { action: 'skip', reason: `${sink.label} is a managed service with no local emulator: documented-contract case, certified by mock_contract and vendor_live` };
  }
  return { action: 'run' };
}

/** What a local mode does with a case whose services are known: run, skip (written) or block (red). */
export type ServiceDisposition =
  | CaseDisposition
  | { readonly action: 'blocked'; readonly reason: string; readonly services: readonly string[] };

/**
 * The disposition of a case in a service-backed mode once the run's services are resolved. A
 * service no provider could serve is a written skip in mock_local and vendor_live; in real_local it
 * blocks the case (red) unless the service was waived, in which case the skip names the waiver.
 */
export function serviceDisposition(
  matrixCase: MatrixCase, mode: RunMode, services: RunServices, waivers: readonly ProvidedService[],
): ServiceDisposition {
  const base = dispositionFor(matrixCase, mode);
  if (base.action === 'skip' || mode === 'mock_contract') return base;
  const missing = caseServiceNames(matrixCase, mode === 'vendor_live').filter((service) => !services[service]?.available);
  if (missing.length === 0) return base;
  const text = missing.map((service) => unavailableText(service, services[service] ?? { available: false, reasons: ['not resolved for this run'] })).join('; ');
  if (mode !== 'real_local') return { action: 'skip', reason: text };
  const unwaived = missing.filter((service) => !(waivers as readonly string[]).includes(service));
  if (unwaived.length === 0) return { action: 'skip', reason: `waived (--waive ${missing.join(',')}): ${text}` };
  return { action: 'blocked', services: unwaived, reason: `${unwaived.map(serviceLabel).join(' and ')} blocks real_local: ${text}; provide it (DPONE_IT_* or Docker) or waive it with --waive ${unwaived.join(',')}` };
}
