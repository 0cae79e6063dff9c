import type { StrategyName } from '../engine/strategies/index.ts';
import type { SinkFamily, SourceFamily } from './families.ts';

/** Case groups of the canonical matrix (DESIGN §2). */
export type CaseGroup = 'base' | 'common_diff' | 'db_target' | 'xmin' | 'cdc';

/** A support rule: these strategies apply to every (source, sink) pair both predicates accept. */
export interface StrategyRule {
  readonly group: CaseGroup;
  readonly strategies: readonly StrategyName[];
  readonly source: (family: SourceFamily) => boolean;
  readonly sink: (family: SinkFamily) => boolean;
}

const any = () => true;

/**
 * The rules that derive the 200 cases: base strategies and snapshot_diff on every pair; partition,
 * SCD2 and backfill on relational sinks; xmin and CDC where the source can provide them.
 */
export const STRATEGY_RULES: readonly StrategyRule[] = [
  { group: 'base', strategies: ['full_refresh', 'incremental_append', 'incremental_merge', 'replace'], source: any, sink: any },
  { group: 'common_diff', strategies: ['snapshot_diff'], source: any, sink: any },
  { group: 'db_target', strategies: ['partition_replace', 'scd2', 'backfill'], source: any, sink: (sink) => sink.kind === 'relational' },
  { group: 'xmin', strategies: ['xmin'], source: (source) => source.capabilities.xmin, sink: any },
  { group: 'cdc', strategies: ['cdc'], source: (source) => source.capabilities.cdc, sink: any },
];
