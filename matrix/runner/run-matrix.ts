import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../engine/usage-error.ts';
import type { VolumeProfile } from '../../fixtures/volume-profile.ts';
import { PROFILE_ENV } from '../../fixtures/volume-profile.ts';
import { renderMatrixJunit, writeRunReports } from '../../reports/index.ts';
import { ARTIFACT_DIR_ENV, caseArtifactPath } from '../artifacts.ts';
import { RUN_MODE_ENV } from '../matrix-env.ts';
import type { MatrixCase, RunMode } from '../registry.ts';
import type { BehaviorArtifact, CaseOutcome, RunSummary, TestStatus } from '../results.ts';
import type { JunitTest } from '../../reports/index.ts';
import type { CaseDisposition } from '../run-modes.ts';
import { dispositionFor } from '../run-modes.ts';
import type { CaseSelection } from '../selection.ts';
import { describeSelection, SELECTION_ENV, selectCases, selectionToEnv } from '../selection.ts';
import type { ProvidedService } from '../../fixtures/services/provider.ts';
import { PROVIDED_SERVICES } from '../../fixtures/services/provider.ts';
import type { RunServices, StartedServices } from '../local/run-services.ts';
import { RUN_SERVICES_ENV, serviceLabel, servicesOf, startRunServices, unavailableText, vendorServices, WAIVE_ENV } from '../local/run-services.ts';
import type { ServiceDisposition } from '../run-modes.ts';
import { serviceDisposition } from '../run-modes.ts';
import { missingVendorEnv, VENDOR_ENDPOINTS, vendorFamiliesOf } from '../local/vendor-env.ts';
import { LOCAL_EVIDENCE_FILES, writeLocalEvidence } from './local-evidence.ts';
import type { RecordedTest } from './progress-reporter.ts';
import { MatrixProgressReporter, recordKey } from './progress-reporter.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SUITES_DIR = join(ROOT, 'matrix', 'suites');
/** Files a run writes besides the per-case artifacts; stale ones are removed before a run. */
const RUN_FILES = ['junit.xml', 'certification_report.json', 'summary.md', 'matrix.svg', 'matrix.html', ...LOCAL_EVIDENCE_FILES];

export interface PlannedCase {
  readonly matrixCase: MatrixCase;
  readonly disposition: CaseDisposition;
}

/** Which selected cases a mode runs and which it skips (with the reason). */
export function planMatrixRun(mode: RunMode, selection: CaseSelection): PlannedCase[] {
  return selectCases(selection).map((matrixCase) => ({ matrixCase, disposition: dispositionFor(matrixCase, mode) }));
}

export interface MatrixRunRequest {
  readonly mode: RunMode;
  readonly selection: CaseSelection;
  readonly profile: VolumeProfile;
  /** Absolute directory for per-case artifacts, JUnit and the reports. */
  readonly artifactDir: string;
  readonly progress: { readonly stream: NodeJS.WritableStream; readonly interactive: boolean };
  /** Services whose absence real_local accepts (`--waive mssql`); recorded in every report. */
  readonly waivers?: readonly ProvidedService[];
}

export interface MatrixRunResult {
  readonly summary: RunSummary;
  readonly files: readonly string[];
}

/** The suite file of a source family (`rest_api` → matrix/suites/rest-api.matrix.test.ts). */
export function suiteFile(source: string): string {
  return join(SUITES_DIR, `${source.replaceAll('_', '-')}.matrix.test.ts`);
}

function removeStaleArtifacts(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (/__(metadata|behavior)\.json$/.test(name) || RUN_FILES.includes(name)) rmSync(join(dir, name));
  }
}

/**
 * Points the vitest workers at this run: they read mode, selection, profile, directory and — in
 * local modes — the resolved services (connections included: env stays inside this process tree
 * and is never written to an artifact) and waivers from env.
 */
function exportRunEnv(request: MatrixRunRequest, local: LocalRunPlan | undefined): void {
  for (const name of [...Object.values(SELECTION_ENV), RUN_SERVICES_ENV, WAIVE_ENV]) Reflect.deleteProperty(process.env, name);
  if (local) {
    process.env[RUN_SERVICES_ENV] = JSON.stringify(local.started.services);
    process.env[WAIVE_ENV] = local.waivers.join(',');
  }
  Object.assign(process.env, selectionToEnv(request.selection), {
    [RUN_MODE_ENV]: request.mode,
    [PROFILE_ENV.rows[0]]: String(request.profile.rows),
    [PROFILE_ENV.changeRatio[0]]: String(request.profile.changeRatio),
    [PROFILE_ENV.deleteRatio[0]]: String(request.profile.deleteRatio),
    [ARTIFACT_DIR_ENV]: request.artifactDir,
  });
  Reflect.deleteProperty(process.env, PROFILE_ENV.rows[1]);
}

function readBehavior(dir: string, caseId: string): BehaviorArtifact | null {
  const path = caseArtifactPath(dir, caseId, 'behavior');
  if (!existsSync(path)) return null;
  const artifact = JSON.parse(readFileSync(path, 'utf8')) as BehaviorArtifact | { passed: null };
  return artifact.passed === null ? null : (artifact as BehaviorArtifact);
}

const MISSING_TEST: RecordedTest = { status: 'not_run', note: null, error: 'the test did not run', durationMs: 0 };

function caseOutcome(planned: PlannedCase, tests: ReadonlyMap<string, RecordedTest>, dir: string): CaseOutcome {
  const { matrixCase } = planned;
  const contract = tests.get(recordKey(matrixCase.id, 'contract')) ?? MISSING_TEST;
  const behavior = tests.get(recordKey(matrixCase.id, 'behavior')) ?? MISSING_TEST;
  const states: TestStatus[] = [contract.status, behavior.status];
  const status = states.includes('failed') || states.includes('not_run') ? 'failed'
    : states.every((state) => state === 'skipped') ? 'skipped' : states.includes('skipped') ? 'failed' : 'passed';
  return {
    caseId: matrixCase.id,
    source: matrixCase.source,
    sink: matrixCase.sink,
    strategy: matrixCase.strategy,
    group: matrixCase.group,
    status,
    contract: contract.status,
    behavior: behavior.status,
    skipReason: status === 'skipped' ? (behavior.note ?? contract.note) : null,
    failure: status === 'failed' ? (contract.error ?? behavior.error ?? 'one test skipped while the other ran') : null,
    durationMs: contract.durationMs + behavior.durationMs,
    behaviorArtifact: readBehavior(dir, matrixCase.id),
  };
}

/** Service-backed modes resolve services first; mock_contract runs without any. */
const SERVICE_MODES: ReadonlySet<RunMode> = new Set(['mock_local', 'real_local', 'vendor_live']);

/** The services of a local run, what it could not get, and what the caller waived. */
interface LocalRunPlan {
  readonly started: StartedServices;
  readonly waivers: readonly ProvidedService[];
  readonly dispositions: ReadonlyMap<string, ServiceDisposition>;
}

async function prepareLocalRun(request: MatrixRunRequest, planned: readonly PlannedCase[]): Promise<LocalRunPlan> {
  const runnable = planned.filter((entry) => entry.disposition.action === 'run').map((entry) => entry.matrixCase);
  // vendor_live takes its managed services from env; the other ends of its cases are local.
  const vendor = request.mode === 'vendor_live' ? await vendorServices([...new Set(runnable.flatMap(vendorFamiliesOf))], process.env) : {};
  const needed = PROVIDED_SERVICES.filter((service) => !(service in vendor) && runnable.some((matrixCase) => servicesOf(matrixCase).includes(service)));
  const progress = (line: string) => request.progress.stream.write(`${line}\n`);
  for (const [service, availability] of Object.entries(vendor)) progress(`services: ${service} from the environment (${availability.available ? availability.description : ''})`);
  if (needed.length > 0) progress(`services: resolving ${needed.join(', ')} (order external → testcontainers → embedded${process.env.DPONE_SERVICES ? `, forced ${process.env.DPONE_SERVICES}` : ''})`);
  const local = await startRunServices(needed, process.env, progress);
  const started: StartedServices = { services: { ...local.services, ...vendor }, stop: () => local.stop() };
  const dispositions = new Map(planned.map((entry) => [
    entry.matrixCase.id, serviceDisposition(entry.matrixCase, request.mode, started.services, request.waivers ?? []),
  ] as const));
  return { started, waivers: request.waivers ?? [], dispositions };
}

/** `postgres=embedded, kafka=embedded; mssql unavailable` — the run's providers for the report headline. */
function servicesHeadline(services: RunServices): string {
  const entries = Object.entries(services);
  const up = entries.filter(([, availability]) => availability.available)
    .map(([service, availability]) => `${service}=${availability.available ? availability.provider : ''}`);
  const down = entries.filter(([, availability]) => !availability.available).map(([service]) => `${service} unavailable`);
  return [up.join(', '), down.join(', ')].filter(Boolean).join('; ') || 'none';
}

/** Waivers that took effect: a waived service that was unavailable, with the cases it skipped. */
function appliedWaivers(local: LocalRunPlan): RunSummary['waivers'] {
  return local.waivers.flatMap((service) => {
    const availability = local.started.services[service];
    if (!availability || availability.available) return [];
    const skipped = [...local.dispositions.values()].filter((disposition) => disposition.action === 'skip' && disposition.reason.startsWith('waived') && disposition.reason.includes(serviceLabel(service))).length;
    return [{ family: service, reason: `${unavailableText(service, availability)}; waived by --waive ${service}, ${skipped} case(s) skipped` }];
  });
}

/**
 * A real_local run that cannot start: cases needing an unwaived missing service fail with the
 * blocker, the rest are reported as not loaded (skipped with that reason) — nothing half-runs.
 */
function blockedOutcomes(planned: readonly PlannedCase[], local: LocalRunPlan): CaseOutcome[] {
  const blocker = [...new Set([...local.dispositions.values()].flatMap((disposition) => (disposition.action === 'blocked' ? disposition.services : [])))]
    .map(serviceLabel).join(' and ');
  return planned.map(({ matrixCase }) => {
    const disposition = local.dispositions.get(matrixCase.id) ?? { action: 'run' };
    const base = { caseId: matrixCase.id, source: matrixCase.source, sink: matrixCase.sink, strategy: matrixCase.strategy, group: matrixCase.group, durationMs: 0, behaviorArtifact: null };
    if (disposition.action === 'blocked') {
      return { ...base, status: 'failed', contract: 'not_run', behavior: 'not_run', skipReason: null, failure: disposition.reason };
    }
    const reason = disposition.action === 'skip' ? disposition.reason : `not loaded: real_local stopped before loading because ${blocker} is unavailable`;
    return { ...base, status: 'skipped', contract: 'skipped', behavior: 'skipped', skipReason: reason, failure: null };
  });
}

/**
 * vendor_live takes endpoints and credentials from the environment only: before anything starts,
 * every variable the selected cases need must be set, or the run stops naming all that are missing.
 */
export function checkVendorEnv(cases: readonly MatrixCase[], env: NodeJS.ProcessEnv): void {
  const families = [...new Set(cases.flatMap(vendorFamiliesOf))];
  const missing = families.flatMap((family) => {
    const names = missingVendorEnv(family, env);
    return names.length === 0 ? [] : [`${VENDOR_ENDPOINTS[family].label}: ${names.join(', ')}`];
  });
  if (missing.length > 0) {
    throw new UsageError('vendor_live', `the selected cases need managed endpoints configured in the environment — missing ${missing.join('; ')} (narrow the run with --sink/--source/--case, or see docs/matrix-runbook.md)`);
  }
}

/**
 * Runs the matrix suites through vitest for a selection, then folds test outcomes and per-case
 * artifacts into a RunSummary and writes JUnit, certification_report.json, summary.md and the
 * matrix picture. Local modes first resolve the services their cases need (and stop them at the
 * end, also on failure); real_local stops before loading anything when a needed service is missing
 * and not waived, and additionally writes state and reconciliation evidence.
 */
export async function runMatrix(request: MatrixRunRequest): Promise<MatrixRunResult> {
  const planned = planMatrixRun(request.mode, request.selection);
  if (planned.length === 0) {
    // e.g. --sink kafka --strategy scd2: each filter is valid, together they name no case.
    throw new UsageError('selection', `no case matches ${describeSelection(request.selection)} (each filter is valid, together they name no case)`);
  }
  const runnable = planned.filter((entry) => entry.disposition.action === 'run');
  if (request.mode === 'vendor_live') checkVendorEnv(runnable.map((entry) => entry.matrixCase), process.env);
  const sources = [...new Set(planned.map((entry) => entry.matrixCase.source))];
  const files = sources.map(suiteFile);
  const missingSuite = files.find((file) => !existsSync(file));
  if (missingSuite) throw new Error(`no matrix suite file ${missingSuite}: every source family needs one`);

  removeStaleArtifacts(request.artifactDir);
  const local = SERVICE_MODES.has(request.mode) ? await prepareLocalRun(request, planned) : undefined;
  const startedAt = new Date();
  try {
    const blocked = local && [...local.dispositions.values()].some((disposition) => disposition.action === 'blocked');
    let outcomes: CaseOutcome[];
    let junitTests: JunitTest[];
    if (local && blocked) {
      outcomes = blockedOutcomes(planned, local);
      junitTests = outcomes.flatMap((outcome) => ['contract', 'behavior'].map((test) => ({
        caseId: outcome.caseId, source: outcome.source, test, status: outcome.status === 'failed' ? 'failed' as const : 'skipped' as const,
        note: outcome.skipReason, error: outcome.failure, durationMs: 0,
      })));
    } else {
      exportRunEnv(request, local);
      const reporter = new MatrixProgressReporter({ total: planned.length * 2, ...request.progress });
      const { createVitest } = await import('vitest/node');
      const vitest = await createVitest('test', {
        root: ROOT,
        config: join(ROOT, 'vitest.config.ts'),
        project: ['matrix'],
        watch: false,
        reporters: [reporter],
      }, {}, {
        // vitest's own log lines would mix into --format json output; everything a user needs is
        // reported by the progress reporter, JUnit and the final summary.
        stdout: new Writable({ write: (_chunk, _encoding, done) => done() }),
      });
      try {
        await vitest.start(files);
      } finally {
        await vitest.close();
        reporter.finish();
      }
      outcomes = planned.map((entry) => caseOutcome(entry, reporter.tests, request.artifactDir));
      junitTests = planned.flatMap(({ matrixCase }) => ['contract', 'behavior'].map((test) => ({
        caseId: matrixCase.id, source: matrixCase.source, test, ...(reporter.tests.get(recordKey(matrixCase.id, test)) ?? MISSING_TEST),
      })));
    }
    const finishedAt = new Date();
    const summary: RunSummary = {
      runMode: request.mode,
      provider: local ? servicesHeadline(local.started.services) : 'memory',
      profile: request.profile,
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      wallMs: finishedAt.getTime() - startedAt.getTime(),
      artifactDir: request.artifactDir,
      outcomes,
      waivers: local ? appliedWaivers(local) : [],
    };
    mkdirSync(request.artifactDir, { recursive: true });
    const junitPath = join(request.artifactDir, 'junit.xml');
    writeFileSync(junitPath, renderMatrixJunit(request.mode, junitTests));
    const reportFiles = await writeRunReports(summary, request.artifactDir);
    const evidenceFiles = request.mode === 'real_local' ? writeLocalEvidence(summary) : [];
    return { summary, files: [junitPath, ...reportFiles, ...evidenceFiles] };
  } finally {
    await local?.started.stop();
  }
}
