import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MatrixCase, RunMode } from './registry.ts';
import type { BehaviorIdentity } from './results.ts';
import { redactSecrets } from './local/vendor-env.ts';

/** Env variable naming the artifact directory (the CLI sets it from --artifact-dir). */
export const ARTIFACT_DIR_ENV = 'DPONE_MATRIX_ARTIFACT_DIR';

/** Default artifact directory of a mode when none is given. */
export function defaultArtifactDir(mode: RunMode): string {
  return join('test_artifacts', 'matrix', mode);
}

/** Path of a per-case artifact: `<case_id>__metadata.json` or `<case_id>__behavior.json`. */
export function caseArtifactPath(dir: string, caseId: string, kind: 'metadata' | 'behavior'): string {
  return join(dir, `${caseId}__${kind}.json`);
}

/**
 * Writes a JSON document (2-space indent, trailing newline), creating the directory. Any secret
 * value from the environment that reached the document (say, inside a driver's error message) is
 * replaced by `***` on the way out.
 */
export function writeJson(path: string, document: unknown): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, redactSecrets(`${JSON.stringify(document, null, 2)}\n`));
}

/** The identity fields a behavior artifact of a case starts with. */
export function behaviorIdentity(matrixCase: MatrixCase, runMode: RunMode, provider: string): BehaviorIdentity {
  return {
    schema_version: 'dpone.matrix.behavior.v1',
    case_id: matrixCase.id,
    source: matrixCase.source,
    sink: matrixCase.sink,
    strategy: matrixCase.strategy,
    run_mode: runMode,
    provider,
  };
}
