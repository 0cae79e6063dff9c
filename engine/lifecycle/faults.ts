/** The staged-load lifecycle, in execution order; `commit_state` comes after everything that can fail. */
export const LIFECYCLE_PHASES = [
  'prepare', 'stage', 'validate_staging', 'finalize', 'reconcile', 'commit_state', 'cleanup',
] as const;

export type LifecyclePhase = (typeof LIFECYCLE_PHASES)[number];

/** A point of the lifecycle: a phase of a batch and, inside finalize, the step (operation or event chunk). */
export interface FaultPoint {
  readonly phase: LifecyclePhase;
  readonly batch: string;
  readonly step?: number;
}

/** Consulted at every fault point; throws to simulate a crash, a lost connection or a full disk. */
export interface FaultInjector {
  check(point: FaultPoint): void;
}

export class InjectedFault extends Error {
  constructor(readonly point: FaultPoint) {
    super(`injected fault at ${point.phase}${point.step === undefined ? '' : ` step ${point.step}`} of batch ${point.batch}`);
    this.name = 'InjectedFault';
  }
}

/**
 * Fails once at the first point matching `phase` (and `step`, when given; `batchIndex` counts
 * batches from 0 and defaults to the first). Later points pass, so a rerun with the same injector
 * proceeds.
 */
export function failOnceAt(phase: LifecyclePhase, options: { step?: number; batchIndex?: number } = {}): FaultInjector & { fired: boolean } {
  const batchesSeen: string[] = [];
  const injector = {
    fired: false,
    check(point: FaultPoint) {
      if (point.phase !== 'prepare' && !batchesSeen.includes(point.batch)) batchesSeen.push(point.batch);
      if (injector.fired || point.phase !== phase) return;
      if (options.step !== undefined && point.step !== options.step) return;
      if (point.phase !== 'prepare' && batchesSeen.indexOf(point.batch) !== (options.batchIndex ?? 0)) return;
      injector.fired = true;
      throw new InjectedFault(point);
    },
  };
  return injector;
}
