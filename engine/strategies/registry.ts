import type { LoadStrategy, StrategyName } from './strategy.ts';
import { STRATEGY_NAMES } from './strategy.ts';
import { fullRefresh } from './full-refresh.ts';
import { incrementalAppend } from './incremental-append.ts';
import { incrementalMerge } from './incremental-merge.ts';
import { replace } from './replace.ts';
import { snapshotDiff } from './snapshot-diff.ts';
import { partitionReplace } from './partition-replace.ts';
import { scd2 } from './scd2.ts';
import { backfill } from './backfill.ts';
import { xmin } from './xmin.ts';
import { cdc } from './cdc.ts';

/**
 * Strategies by name. Immutable: `with` returns a new registry, which is how tests inject a mutated
 * strategy to prove that the matrix notices broken semantics.
 */
export class StrategyRegistry {
  private readonly strategies: ReadonlyMap<StrategyName, LoadStrategy>;

  constructor(strategies: Iterable<LoadStrategy>) {
    this.strategies = new Map([...strategies].map((strategy) => [strategy.name, strategy]));
  }

  get(name: StrategyName): LoadStrategy {
    const strategy = this.strategies.get(name);
    if (!strategy) throw new Error(`no strategy registered as ${name}`);
    return strategy;
  }

  with(strategy: LoadStrategy): StrategyRegistry {
    return new StrategyRegistry([...this.strategies.values(), strategy]);
  }
}

export const DEFAULT_STRATEGIES = new StrategyRegistry([
  fullRefresh, incrementalAppend, incrementalMerge, replace, snapshotDiff, partitionReplace, scd2, backfill, xmin, cdc,
]);

export function isStrategyName(value: string): value is StrategyName {
  return (STRATEGY_NAMES as readonly string[]).includes(value);
}
