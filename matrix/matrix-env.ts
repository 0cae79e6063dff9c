import { UsageError } from '../engine/usage-error.ts';
import type { VolumeProfile } from '../fixtures/volume-profile.ts';
import { resolveProfile } from '../fixtures/volume-profile.ts';
import { ARTIFACT_DIR_ENV, defaultArtifactDir } from './artifacts.ts';
import type { RunMode } from './registry.ts';
import { RUN_MODES } from './registry.ts';
import { isRunMode, MODE_DEFAULT_PROFILES } from './run-modes.ts';
import type { CaseSelection } from './selection.ts';
import { selectionFromEnv } from './selection.ts';

export const RUN_MODE_ENV = 'DPONE_MATRIX_RUN_MODE';

/** Everything a matrix run is configured by, as the suites read it from env. */
export interface MatrixRunConfig {
  readonly mode: RunMode;
  readonly selection: CaseSelection;
  readonly profile: VolumeProfile;
  readonly artifactDir: string;
}

/** Reads the run configuration from env (defaults: mock_contract, all cases, the default profile). */
export function matrixConfigFromEnv(env: Record<string, string | undefined> = process.env): MatrixRunConfig {
  const modeText = env[RUN_MODE_ENV] ?? 'mock_contract';
  if (!isRunMode(modeText)) throw new UsageError(RUN_MODE_ENV, `unknown run mode "${modeText}" (known: ${RUN_MODES.join(', ')})`);
  return {
    mode: modeText,
    selection: selectionFromEnv(env),
    profile: resolveProfile({}, env, MODE_DEFAULT_PROFILES[modeText]),
    artifactDir: env[ARTIFACT_DIR_ENV] || defaultArtifactDir(modeText),
  };
}
