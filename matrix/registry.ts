import type { StrategyName } from '../engine/strategies/index.ts';
import type { ServiceName, SinkFamily, SourceFamily } from './families.ts';
import { SINK_FAMILIES, SOURCE_FAMILIES } from './families.ts';
import type { CaseGroup, StrategyRule } from './strategy-rules.ts';
import { STRATEGY_RULES } from './strategy-rules.ts';

export const RUN_MODES = ['mock_contract', 'mock_local', 'real_local', 'vendor_live'] as const;
export type RunMode = (typeof RUN_MODES)[number];

/** One source → sink → strategy case of the canonical matrix. */
export interface MatrixCase {
  /** `<source>_to_<sink>__<strategy>`. */
  readonly id: string;
  readonly source: string;
  readonly sink: string;
  readonly strategy: StrategyName;
  readonly group: CaseGroup;
  /** Copy/paste guide, relative to docs/: `source-sink/<source>-to-<sink>.md` with `_` → `-`. */
  readonly guide: string;
  /** Install extras whose driver packages the case needs. */
  readonly installExtras: readonly string[];
  /** Run modes the case belongs to. */
  readonly profiles: readonly RunMode[];
  /** False when no local service exists for a family (BigQuery sinks). */
  readonly localServiceSupported: boolean;
  /** Always false: mock and local modes never need credentials; vendor_live takes them from env. */
  readonly externalCredentialsRequired: false;
  readonly services: readonly ServiceName[];
}

export function caseId(source: string, sink: string, strategy: string): string {
  return `${source}_to_${sink}__${strategy}`;
}

export function guidePath(source: string, sink: string): string {
  return `source-sink/${source.replaceAll('_', '-')}-to-${sink.replaceAll('_', '-')}.md`;
}

function buildCase(source: SourceFamily, sink: SinkFamily, strategy: StrategyName, group: CaseGroup): MatrixCase {
  const localServiceSupported = sink.localService;
  const profiles: RunMode[] = ['mock_contract'];
  if (localServiceSupported) profiles.push('mock_local', 'real_local');
  if (source.vendorLive || sink.vendorLive) profiles.push('vendor_live');
  return {
    id: caseId(source.name, sink.name, strategy),
    source: source.name,
    sink: sink.name,
    strategy,
    group,
    guide: guidePath(source.name, sink.name),
    installExtras: [...new Set([source.extra, sink.extra])],
    profiles,
    localServiceSupported,
    externalCredentialsRequired: false,
    services: [...new Set([...source.services, ...sink.services])],
  };
}

/** Derives the matrix from families and rules, ordered by source, sink, then rule order. */
export function deriveMatrix(
  sources: readonly SourceFamily[] = SOURCE_FAMILIES,
  sinks: readonly SinkFamily[] = SINK_FAMILIES,
  rules: readonly StrategyRule[] = STRATEGY_RULES,
): readonly MatrixCase[] {
  const cases: MatrixCase[] = [];
  for (const source of sources) {
    for (const sink of sinks) {
      for (const rule of rules) {
        if (!rule.source(source) || !rule.sink(sink)) continue;
        for (const strategy of rule.strategies) cases.push(buildCase(source, sink, strategy, rule.group));
      }
    }
  }
  return cases;
}

/** The canonical 200-case matrix. */
export const MATRIX: readonly MatrixCase[] = deriveMatrix();

export function findCase(id: string): MatrixCase | undefined {
  return MATRIX.find((candidate) => candidate.id === id);
}
