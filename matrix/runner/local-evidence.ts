import { join } from 'node:path';
import { writeJson } from '../artifacts.ts';
import type { CaseOutcome, LocalCaseEvidence, RunSummary } from '../results.ts';

/** Run-level evidence files of real_local, read by the live-state-reconciliation gate. */
export const LOCAL_EVIDENCE_FILES = ['state_evidence.json', 'reconciliation_evidence.json'] as const;

interface EvidenceDocument<Entry> {
  readonly schema_version: string;
  readonly generated_at: string;
  readonly run_mode: string;
  readonly profile: { readonly rows: number; readonly change_ratio: number; readonly delete_ratio: number };
  readonly status: 'green' | 'red';
  readonly blockers: readonly string[];
  readonly cases: readonly Entry[];
  readonly skipped: readonly { readonly case_id: string; readonly reason: string }[];
  readonly waivers: RunSummary['waivers'];
}

function caseIdentity(outcome: CaseOutcome) {
  return { case_id: outcome.caseId, source: outcome.source, sink: outcome.sink, strategy: outcome.strategy, provider: outcome.behaviorArtifact?.provider ?? 'none' };
}

/**
 * One evidence document: an entry per executed case (from its behavior artifact), the skipped cases
 * with their reasons, and red with a blocker for every executed case that failed the judgement
 * given by `passed` or left no evidence.
 */
function evidenceDocument<Entry>(
  summary: RunSummary, schemaVersion: string,
  entry: (evidence: LocalCaseEvidence) => Entry, passed: (evidence: LocalCaseEvidence) => string | null,
): EvidenceDocument<Entry & ReturnType<typeof caseIdentity>> {
  const cases: (Entry & ReturnType<typeof caseIdentity>)[] = [];
  const blockers: string[] = [];
  for (const outcome of summary.outcomes) {
    if (outcome.status === 'skipped') continue;
    const evidence = outcome.behaviorArtifact?.local_evidence;
    if (!evidence) {
      blockers.push(`${outcome.caseId}: no evidence recorded (${outcome.failure ?? 'the case did not load'})`);
      continue;
    }
    cases.push({ ...caseIdentity(outcome), ...entry(evidence) });
    const problem = passed(evidence);
    if (problem) blockers.push(`${outcome.caseId}: ${problem}`);
  }
  return {
    schema_version: schemaVersion,
    generated_at: summary.finishedAt,
    run_mode: summary.runMode,
    profile: { rows: summary.profile.rows, change_ratio: summary.profile.changeRatio, delete_ratio: summary.profile.deleteRatio },
    status: blockers.length === 0 ? 'green' : 'red',
    blockers,
    cases,
    skipped: summary.outcomes.filter((outcome) => outcome.status === 'skipped').map((outcome) => ({ case_id: outcome.caseId, reason: outcome.skipReason ?? 'no reason recorded' })),
    waivers: summary.waivers,
  };
}

/** Writes `state_evidence.json` and `reconciliation_evidence.json` next to the run's reports. */
export function writeLocalEvidence(summary: RunSummary): string[] {
  const state = evidenceDocument(summary, 'dpone.state_evidence.v1', (evidence) => ({ ...evidence.state, services: evidence.services }), (evidence) => {
    if (!evidence.state.committed_after_reconcile) return 'state was not committed after reconciliation';
    if (!evidence.state.stored_matches_committed) return 'the stored state differs from the state the load committed';
    return null;
  });
  const reconciliation = evidenceDocument(summary, 'dpone.reconciliation_evidence.v1', (evidence) => ({ ...evidence.reconciliation, performance: evidence.performance }), (evidence) => {
    const failed = evidence.reconciliation.batches.flatMap((batch) => batch.checks.filter((check) => !check.passed).map((check) => `${check.check} expected ${check.expected}, observed ${check.observed}`));
    if (failed.length > 0) return `reconciliation failed: ${failed.join('; ')}`;
    return evidence.reconciliation.passed ? null : `target differs from the oracle (checksum ${evidence.reconciliation.checksum_observed} ≠ ${evidence.reconciliation.checksum_expected})`;
  });
  const [statePath, reconciliationPath] = LOCAL_EVIDENCE_FILES.map((name) => join(summary.artifactDir, name)) as [string, string];
  writeJson(statePath, state);
  writeJson(reconciliationPath, reconciliation);
  return [statePath, reconciliationPath];
}
