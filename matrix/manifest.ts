import type { StrategyName } from '../engine/strategies/index.ts';
import { sinkFamily } from './families.ts';
import type { MatrixCase } from './registry.ts';

/** How a strategy reads its source: the `source.mode` a manifest declares. */
export const SOURCE_READ_MODES: Readonly<Record<StrategyName, string>> = {
  full_refresh: 'snapshot',
  incremental_append: 'incremental',
  incremental_merge: 'incremental',
  replace: 'window',
  snapshot_diff: 'snapshot',
  partition_replace: 'incremental_partitions',
  scd2: 'snapshot',
  backfill: 'partition_range',
  xmin: 'xmin',
  cdc: 'cdc',
};

/** How a strategy writes a relational target: the `sink.write_mode` a manifest declares. */
export const RELATIONAL_WRITE_MODES: Readonly<Record<StrategyName, string>> = {
  full_refresh: 'staged_swap',
  incremental_append: 'append',
  incremental_merge: 'merge',
  replace: 'replace_window',
  snapshot_diff: 'merge',
  partition_replace: 'replace_partitions',
  scd2: 'scd2',
  backfill: 'replace_partitions',
  xmin: 'merge',
  cdc: 'merge',
};

export interface ManifestFragment {
  readonly pipeline: string;
  readonly source: {
    readonly type: string;
    readonly mode: string;
    /** What is read: a table, a REST resource or a Kafka topic. */
    readonly object: Readonly<Record<string, string>>;
    readonly unique_key: string;
    readonly watermark_column?: string;
  };
  readonly sink: { readonly type: string; readonly write_mode: string; readonly target: string };
  readonly strategy: { readonly mode: StrategyName; readonly options: Readonly<Record<string, unknown>> };
  readonly connection: { readonly provider: 'env'; readonly connection_id: string };
}

/** Where each source family's fixture table lives, in that family's own terms. */
const SOURCE_OBJECTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  postgres: { table: 'public.orders_wide' },
  mssql: { table: 'dbo.orders_wide' },
  clickhouse: { table: 'dpone.orders_wide' },
  rest_api: { resource: '/v1/orders', cursor_param: 'updated_since', page_param: 'page' },
  kafka: { topic: 'dpone.orders_wide' },
};

const STRATEGY_OPTIONS: Partial<Record<StrategyName, Readonly<Record<string, unknown>>>> = {
  replace: { window: { column: 'id', bounded: true } },
  partition_replace: { partition_column: 'business_date' },
  backfill: { partition_column: 'business_date', chunk_size: 2, inner_strategy: 'partition_replace' },
  scd2: { valid_from_column: '__dpone__valid_from', valid_to_column: '__dpone__valid_to', current_flag_column: '__dpone__is_current' },
  snapshot_diff: { delete_policy: 'delete', row_hash_column: '__dpone__row_hash' },
};

/**
 * The manifest fragment a user would write for a case. Connections are referenced by id and
 * resolved from env at run time: a fragment never holds a credential.
 */
export function manifestFragment(matrixCase: MatrixCase): ManifestFragment {
  const sink = sinkFamily(matrixCase.sink);
  const mode = SOURCE_READ_MODES[matrixCase.strategy];
  return {
    pipeline: matrixCase.id,
    source: {
      type: matrixCase.source,
      mode,
      object: SOURCE_OBJECTS[matrixCase.source] ?? { table: 'orders_wide' },
      unique_key: 'id',
      ...(mode.startsWith('incremental') ? { watermark_column: 'updated_at' } : {}),
    },
    sink: {
      type: matrixCase.sink,
      write_mode: sink.kind === 'event_log'
        ? (matrixCase.strategy === 'incremental_append' ? 'changelog' : 'keyed_upsert')
        : RELATIONAL_WRITE_MODES[matrixCase.strategy],
      target: sink.kind === 'event_log' ? `dpone.${matrixCase.source}.orders_wide` : 'landing.orders_wide',
    },
    strategy: { mode: matrixCase.strategy, options: STRATEGY_OPTIONS[matrixCase.strategy] ?? {} },
    connection: { provider: 'env', connection_id: `${matrixCase.sink}_target` },
  };
}
