import type { MatrixCase, RunMode } from './registry.ts';
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

export function isRunMode(value: string): value is RunMode {
  return (RUN_MODES as readonly string[]).includes(value);
}

/** Whether a mode runs a case, and the reason when it does not. */
export function dispositionFor(matrixCase: MatrixCase, mode: RunMode): CaseDisposition {
  if (mode === 'mock_contract') return { action: 'run' };
  if (mode === 'vendor_live') {
    return matrixCase.profiles.includes('vendor_live')
      ? { action: 'run' }
      : { action: 'skip', reason: 'no managed service involved: this case is certified by real_local' };
  }
  if (!matrixCase.localServiceSupported) {
    const sink = sinkFamily(matrixCase.sink);
    return { action: 'skip', reason: `${sink.label} is a managed service with no local emulator: documented-contract case, certified by mock_contract and vendor_live` };
  }
  return { action: 'run' };
}
