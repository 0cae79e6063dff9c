import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CertificationReport } from '../reports/index.ts';
import { formatTable } from '../cli/format-table.ts';
import { RssSampler } from './process-tree.ts';

const CLI = fileURLToPath(new URL('../bin/dpone.js', import.meta.url));
const MIB = 1024 * 1024;

/** Targets of the mock_contract run (issue: ≤ 10 s wall at defaults, ≤ 1.5 GiB RSS, ≤ 10 MB of case artifacts). */
export const MATRIX_TARGETS = { wallSeconds: 10, peakRssMiB: 1536, caseArtifactsMB: 10 } as const;

export interface MatrixBenchRun {
  readonly rows: number;
  readonly wallSeconds: number;
  readonly cases: number;
  readonly perCaseMeanMs: number;
  readonly peakRssMiB: number;
  readonly caseArtifactsMB: number;
  readonly status: string;
}

function caseArtifactBytes(dir: string): number {
  return readdirSync(dir)
    .filter((name) => /__(metadata|behavior)\.json$/.test(name))
    .reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

/** Runs `dpone matrix --mode mock_contract` in a child process, timing it and sampling its RSS. */
export async function benchMatrixRun(rows: number): Promise<MatrixBenchRun> {
  const dir = mkdtempSync(join(tmpdir(), 'dpone-bench-'));
  try {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, 'matrix', '--mode', 'mock_contract', '--rows', String(rows), '--artifact-dir', dir, '--format', 'json'], {
      env: { ...process.env, CI: 'true' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const sampler = new RssSampler(child.pid ?? 0);
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    const exitCode = await new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
    const peak = sampler.stop();
    const wallSeconds = (performance.now() - started) / 1000;
    if (exitCode !== 0 && !stdout) throw new Error(`dpone matrix --rows ${rows} exited ${exitCode}`);
    const report = JSON.parse(stdout) as CertificationReport;
    const durations = report.cases.map((entry) => entry.duration_ms);
    return {
      rows,
      wallSeconds,
      cases: report.totals.cases,
      perCaseMeanMs: durations.reduce((sum, value) => sum + value, 0) / Math.max(durations.length, 1),
      peakRssMiB: peak / MIB,
      caseArtifactsMB: caseArtifactBytes(dir) / 1_000_000,
      status: report.status,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Prints the runs side by side, with the ratios that show how the run scales with volume. */
export function formatMatrixBench(runs: readonly MatrixBenchRun[]): string {
  const table = formatTable(
    ['rows/case', 'cases', 'wall s', 'per-case mean ms', 'peak RSS MiB', 'case artifacts MB', 'verdict'],
    runs.map((run) => [run.rows, run.cases, run.wallSeconds.toFixed(2), run.perCaseMeanMs.toFixed(1), run.peakRssMiB.toFixed(0),
      run.caseArtifactsMB.toFixed(2), run.status]),
  );
  const [base, ...others] = runs;
  const scaling = base ? others.map((run) => `${run.rows / base.rows}× rows → ${(run.wallSeconds / base.wallSeconds).toFixed(2)}× wall, `
    + `${(run.perCaseMeanMs / base.perCaseMeanMs).toFixed(2)}× per-case time`) : [];
  const worst = {
    wall: base?.wallSeconds ?? 0,
    rss: Math.max(...runs.map((run) => run.peakRssMiB)),
    artifacts: base?.caseArtifactsMB ?? 0,
  };
  const verdict = (ok: boolean) => (ok ? 'within target' : 'OVER TARGET');
  return [
    table,
    '',
    ...scaling,
    `default-volume wall ${worst.wall.toFixed(2)} s (target ≤ ${MATRIX_TARGETS.wallSeconds} s): ${verdict(worst.wall <= MATRIX_TARGETS.wallSeconds)}`,
    `peak RSS ${worst.rss.toFixed(0)} MiB (target ≤ ${MATRIX_TARGETS.peakRssMiB} MiB): ${verdict(worst.rss <= MATRIX_TARGETS.peakRssMiB)}`,
    `case artifacts ${worst.artifacts.toFixed(2)} MB (target ≤ ${MATRIX_TARGETS.caseArtifactsMB} MB): ${verdict(worst.artifacts <= MATRIX_TARGETS.caseArtifactsMB)}`,
  ].join('\n');
}
