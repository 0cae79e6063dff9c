import type { Row } from '../../schema/index.ts';
import type { PlanOperation, StagedBatch, TargetSpec } from '../../plan/index.ts';
import { stagingSchema } from '../../sql/sql-compiler.ts';
import type { SinkCapabilities, StepHook } from '../sink.ts';
import type { SqlTablePlacement } from '../sql-table-sink.ts';
import { SqlTableSink } from '../sql-table-sink.ts';
import { ClickHouseDialect } from './clickhouse-dialect.ts';
import type { ClickHouseDriver } from './clickhouse-driver.ts';
import { insertCanonicalRows } from './clickhouse-native-insert.ts';

export interface ClickHouseSinkOptions extends Omit<SqlTablePlacement, 'tablePrefix'> {
  /** Dialect (capability overrides); default `new ClickHouseDialect()`. */
  readonly dialect?: ClickHouseDialect;
}

/**
 * A ClickHouse table sink (server or chdb, through a `ClickHouseDriver`). ClickHouse has no
 * multi-statement transactions, so the sink is not transactional; instead every finalize is safe to
 * rerun from the same staging after a failure at any statement, and the lifecycle writes the state
 * (a ReplacingMergeTree `etl_state.__dpone__loads`, newest commit wins) only after reconcile. Why a
 * rerun converges to the same target, with nothing twice and nothing lost:
 *
 * - **swap** builds the new table beside the target and publishes it with one atomic
 *   `EXCHANGE TABLES`; a rerun drops the half-built twin and builds it again.
 * - **replace_partitions** builds the listed partitions in a twin and moves each with an atomic
 *   `REPLACE PARTITION` (or `DROP PARTITION` when nothing was staged for it): replacing again
 *   yields the same partition.
 * - **merge** and **replace_window** delete every staged key (or the window) before inserting, so
 *   a rerun deletes what the failed attempt inserted and inserts it once.
 * - **append** into a changelog inserts only change rows (key, op, row hash) the target does not
 *   hold yet; `row_count_delta` counts from the target minus the staged rows already there, so
 *   the check holds on a rerun after a partial append too.
 * - **scd2_expire_insert** is planned from the current versions: a rerun after the expiry sees the
 *   expired keys as new (no current version) and inserts their new version once; after the insert
 *   it sees nothing left to change.
 *
 * Staging goes through the native fast path (`insertCanonicalRows`: TabSeparated chunks inserted
 * into a wire table, converted on the server). `onStep` is called before every statement of a finalize (steps
 * count statements, not operations), so a fault can hit between the statements of one operation.
 */
export class ClickHouseSink extends SqlTableSink<ClickHouseDialect, ClickHouseDriver> {
  readonly family = 'clickhouse';
  readonly capabilities: SinkCapabilities;

  /** @param driver runs the statements; @param options databases, state table and dialect (defaults above). */
  constructor(driver: ClickHouseDriver, options: ClickHouseSinkOptions = {}) {
    super(driver, options.dialect ?? new ClickHouseDialect(), options);
    this.capabilities = {
      kind: 'relational', transactional: false, upsert: false,
      partitionExchange: this.dialect.capabilities.partitionExchange, tombstones: false,
    };
  }

  /**
   * Creates the batch's staging table anew and loads its rows (with op and row hash) through the
   * fast path; row hashes only when the prepared target keeps them (`stagedMeta`).
   */
  async stage(batch: StagedBatch): Promise<void> {
    const names = this.names(this.targetName, batch.name);
    this.stagingName = batch.name;
    await this.driver.execute(this.compiler.createStaging(batch.schema, names));
    const meta = this.stagedMeta(batch);
    await insertCanonicalRows(this.driver, this.dialect, names.staging, stagingSchema(batch.schema).columns, batch.rows, (index) => meta(batch.rows[index] as Row, index));
  }

  /** Runs each operation's statements in order, calling `onStep` before each statement. */
  async finalize(target: TargetSpec, batch: StagedBatch, operations: readonly PlanOperation[], onStep: StepHook): Promise<void> {
    const names = this.names(target.name, batch.name);
    this.countBeforeFinalize = await this.countTarget(target);
    if (target.shape === 'changelog') {
      this.countBeforeFinalize -= this.count(await this.driver.scalar(this.compiler.countStagedRowsInTarget(target, names)));
    }
    let step = 0;
    for (const operation of operations) {
      for (const statement of this.compiler.finalize(operation, target, names, batch)) {
        onStep(step++);
        await this.driver.execute([statement]);
      }
    }
  }
}
