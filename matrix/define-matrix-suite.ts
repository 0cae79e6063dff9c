import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, test } from 'vitest';
import { releaseDerivedData } from '../fixtures/derived-cache.ts';
import { behaviorIdentity, caseArtifactPath, writeJson } from './artifacts.ts';
import { runCaseBehavior } from './behavior.ts';
import { contractProblems } from './contract.ts';
import { manifestFragment } from './manifest.ts';
import type { MatrixRunConfig } from './matrix-env.ts';
import { matrixConfigFromEnv } from './matrix-env.ts';
import type { ProvidedService } from '../fixtures/services/provider.ts';
import { HarnessPool } from './local/harness-pool.ts';
import type { RunServices } from './local/run-services.ts';
import { caseProvider, caseServices, parseWaivers, runServicesFromEnv, WAIVE_ENV } from './local/run-services.ts';
import type { MatrixCase, RunMode } from './registry.ts';
import type { BehaviorArtifact, MetadataArtifact, SkippedBehaviorArtifact } from './results.ts';
import { dispositionFor, serviceDisposition } from './run-modes.ts';
import { selectCases } from './selection.ts';

const DOCS_DIR = fileURLToPath(new URL('../docs/', import.meta.url));

function metadataArtifact(matrixCase: MatrixCase, mode: MetadataArtifact['run_mode'], provider: string, skipReason: string | null, durationMs: number): MetadataArtifact {
  return {
    schema_version: 'dpone.matrix.metadata.v1',
    case_id: matrixCase.id,
    source: matrixCase.source,
    sink: matrixCase.sink,
    strategy: matrixCase.strategy,
    group: matrixCase.group,
    guide: matrixCase.guide,
    install_extras: matrixCase.installExtras,
    profiles: matrixCase.profiles,
    local_service_supported: matrixCase.localServiceSupported,
    external_credentials_required: matrixCase.externalCredentialsRequired,
    services: matrixCase.services,
    manifest_fragment: manifestFragment(matrixCase),
    run_mode: mode,
    provider,
    skip_reason: skipReason,
    duration_ms: durationMs,
  };
}

function failedChecks(artifact: BehaviorArtifact): string[] {
  return artifact.quality_check_results.filter((check) => !check.passed).map((check) => `${check.name}: ${check.detail}`);
}

/**
 * Generates the tests of one source family's cases: per case a `contract` test and a `behavior`
 * test, each writing its artifact before asserting (a red case leaves its evidence). Cases the mode
 * does not run are skipped with their reason, which lands in JUnit and in both artifacts.
 */
export function defineMatrixSuite(source: string): void {
  const config = matrixConfigFromEnv();
  const local = LOCAL_MODES.has(config.mode) ? localRunFromEnv() : undefined;
  if (local) afterAll(() => local.harnesses.close());
  const cases = selectCases(config.selection).filter((candidate) => candidate.source === source);
  if (cases.length === 0) {
    test.skip(`no ${source} case selected (${JSON.stringify(config.selection)})`, () => undefined);
    return;
  }
  // Cases run grouped by strategy: data derived for one strategy (expectations, shaped targets) is
  // released before the next group, which bounds memory at 100,000 rows per case.
  const strategies = [...new Set(cases.map((matrixCase) => matrixCase.strategy))];
  for (const strategy of strategies) {
    describe(strategy, () => {
      afterAll(releaseDerivedData);
      for (const matrixCase of cases.filter((candidate) => candidate.strategy === strategy)) defineCaseTests(matrixCase, config, local);
    });
  }
}

/** Service-backed modes load through real connectors against the services their run resolved. */
const LOCAL_MODES: ReadonlySet<RunMode> = new Set(['mock_local', 'real_local', 'vendor_live']);
/** Seeding and loading a release-volume case on real services takes minutes, not seconds. */
const LOCAL_CASE_TIMEOUT_MS = 900_000;

interface LocalRun {
  readonly services: RunServices;
  readonly waivers: readonly ProvidedService[];
  readonly harnesses: HarnessPool;
}

function localRunFromEnv(): LocalRun {
  const services = runServicesFromEnv();
  return { services, waivers: parseWaivers(process.env[WAIVE_ENV], WAIVE_ENV), harnesses: new HarnessPool(services) };
}

/** The contract and behavior tests of one case. */
function defineCaseTests(matrixCase: MatrixCase, config: MatrixRunConfig, local: LocalRun | undefined): void {
  const disposition = local ? serviceDisposition(matrixCase, config.mode, local.services, local.waivers) : dispositionFor(matrixCase, config.mode);
  const skipReason = disposition.action === 'skip' ? disposition.reason : null;
  const provider = config.mode === 'mock_contract' ? 'memory' : local && skipReason === null ? caseProvider(caseServices(matrixCase, local.services)) : 'none';
  describe(matrixCase.id, () => {
    test('contract', (context) => {
      const started = performance.now();
      writeJson(caseArtifactPath(config.artifactDir, matrixCase.id, 'metadata'),
        metadataArtifact(matrixCase, config.mode, provider, skipReason, Math.round(performance.now() - started)));
      if (skipReason) {
        context.skip(skipReason);
        return;
      }
      expect(contractProblems(matrixCase, manifestFragment(matrixCase), config.mode, DOCS_DIR)).toEqual([]);
    });
    test('behavior', { timeout: local ? LOCAL_CASE_TIMEOUT_MS : undefined }, async (context) => {
      if (disposition.action === 'skip') {
        const skipped: SkippedBehaviorArtifact = {
          ...behaviorIdentity(matrixCase, config.mode, 'none'), skip_reason: disposition.reason, duration_ms: 0, passed: null,
        };
        writeJson(caseArtifactPath(config.artifactDir, matrixCase.id, 'behavior'), skipped);
        context.skip(disposition.reason);
        return;
      }
      if (disposition.action === 'blocked') throw new Error(disposition.reason);
      const artifact = local
        ? await (await import('./local/local-behavior.ts')).runLocalCaseBehavior(matrixCase, { profile: config.profile, runMode: config.mode, ...local })
        : await runMemoryCase(matrixCase, config);
      writeJson(caseArtifactPath(config.artifactDir, matrixCase.id, 'behavior'), artifact);
      expect(artifact.load_error, 'the load failed').toBeNull();
      expect(artifact.actual_row_count, 'row count').toBe(artifact.expected_row_count);
      expect(artifact.source_row_count, 'rows read from the source').toBe(artifact.expected_source_row_count);
      expect(artifact.actual_checksum, 'table checksum').toBe(artifact.expected_checksum);
      expect(failedChecks(artifact), 'quality checks').toEqual([]);
      expect(artifact.samples?.mismatched_keys, 'sample rows').toEqual([]);
      expect(artifact.passed).toBe(true);
    });
  });
}

function runMemoryCase(matrixCase: MatrixCase, config: MatrixRunConfig): Promise<BehaviorArtifact> {
  if (config.mode !== 'mock_contract') {
    throw new Error(`${config.mode} is run by \`dpone matrix --mode ${config.mode}\`, which checks its endpoints first`);
  }
  return runCaseBehavior(matrixCase, { profile: config.profile, runMode: config.mode });
}
