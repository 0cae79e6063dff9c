import type { ColumnDef, Row } from '../../schema/index.ts';
import { dataRowOf, freezeRow, normalizeValue } from '../../schema/index.ts';
import type { KeyValue, PlanOperation, ReconcileCheck, StagedBatch, TargetLayout, TargetSpec } from '../../plan/index.ts';
import { dataRowHash, keyOf, targetLayout } from '../../plan/index.ts';
import type { LoadState, StateStore } from '../../state/index.ts';
import type { LoadNames, QualifiedName } from '../../sql/names.ts';
import { DEFAULT_STATE_TABLE, loadNames } from '../../sql/names.ts';
import { stagingSchema } from '../../sql/sql-compiler.ts';
import type { ReconcileResult, Sink, SinkCapabilities, StagingReport, StepHook, TargetContent } from '../sink.ts';
import { reconcileResult } from '../sink.ts';
import { ClickHouseDialect } from './clickhouse-dialect.ts';
import type { ClickHouseDriver, ClickHouseRows } from './clickhouse-driver.ts';
import { insertCanonicalRows } from './clickhouse-native-insert.ts';

export interface ClickHouseSinkOptions {
  /** Database of the target (created when missing); default the connection's current database. */
  readonly schema?: string;
  /** Database of staging tables; default the target's. */
  readonly stagingSchema?: string;
  /** State table; default `etl_state.__dpone__loads`. */
  readonly stateTable?: QualifiedName;
  /** Dialect (capability overrides); default `new ClickHouseDialect()`. */
  readonly dialect?: ClickHouseDialect;
}

/** A count as ClickHouse returns it (UInt64 arrives quoted). */
function count(value: unknown): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new Error(`clickhouse: expected a count, got ${String(value)}`);
  return parsed;
}

/** Canonical, frozen rows from raw rows read through the dialect's read expressions. */
export function canonicalRows(raw: ClickHouseRows, columns: readonly ColumnDef[], offset = 0): Row[] {
  return raw.map((values) => freezeRow(columns.map((column, index) => {
    const value = values[offset + index];
    try {
      return normalizeValue(column.family, value);
    } catch (error) {
      throw new Error(`clickhouse: column ${column.name} (${column.family}) read back ${JSON.stringify(value)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  })));
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
 * Staging goes through the native fast path (`insertCanonicalRows`: `INSERT … FORMAT TabSeparated`
 * into a wire table, converted on the server). `onStep` is called before every statement of a finalize (steps
 * count statements, not operations), so a fault can hit between the statements of one operation.
 */
export class ClickHouseSink implements Sink {
  readonly family = 'clickhouse';
  readonly capabilities: SinkCapabilities;
  readonly stateStore: StateStore;
  readonly dialect: ClickHouseDialect;
  private countBeforeFinalize = 0;
  private targetName?: string;
  /** The staging table of the batch being loaded (keys_present/keys_absent compare its keys). */
  private stagingName?: string;
  private stateTableReady = false;

  /** @param driver runs the statements; @param options databases, state table and dialect (defaults above). */
  constructor(private readonly driver: ClickHouseDriver, private readonly options: ClickHouseSinkOptions = {}) {
    this.dialect = options.dialect ?? new ClickHouseDialect();
    this.capabilities = {
      kind: 'relational', transactional: false, upsert: false,
      partitionExchange: this.dialect.capabilities.partitionExchange, tombstones: false,
    };
    this.stateStore = {
      load: async (pipeline) => {
        await this.ensureStateTable();
        const text = await this.driver.scalar(this.compiler.loadState(pipeline, this.names()));
        return text === null ? {} : (JSON.parse(String(text)) as LoadState);
      },
      commit: async (pipeline, state) => {
        await this.ensureStateTable();
        await this.driver.execute([this.compiler.commitState(pipeline, state, this.names())]);
      },
    };
  }

  private get compiler() {
    return this.dialect.compiler;
  }

  /** Names of a load; staging defaults to a placeholder where only the target or state is used. */
  names(targetName = this.targetName ?? '__dpone__none', staging = '__dpone__none'): LoadNames {
    return loadNames(targetName, staging, {
      ...(this.options.schema === undefined ? {} : { schema: this.options.schema }),
      ...(this.options.stagingSchema === undefined ? {} : { stagingSchema: this.options.stagingSchema }),
      state: this.options.stateTable ?? DEFAULT_STATE_TABLE,
    });
  }

  /** Creates the state table and the target when missing, and notes the target's row count. */
  async prepare(target: TargetSpec): Promise<void> {
    this.targetName = target.name;
    await this.ensureStateTable();
    await this.driver.execute(this.compiler.createTarget(target, this.names(target.name)));
    this.countBeforeFinalize = await this.countTarget(target);
  }

  async currentHashes(target: TargetSpec): Promise<Map<KeyValue, string>> {
    const layout = targetLayout(target);
    const hashes = new Map<KeyValue, string>();
    for (const row of await this.currentRows(target, layout)) {
      const stored = layout.hashIndex >= 0 ? row[layout.hashIndex] : null;
      hashes.set(keyOf(row, layout.keyIndex), typeof stored === 'string' ? stored : dataRowHash(dataRowOf(row, layout.dataWidth)));
    }
    return hashes;
  }

  async currentKeys(target: TargetSpec): Promise<Set<KeyValue>> {
    const layout = targetLayout(target);
    return new Set((await this.currentRows(target, layout)).map((row) => keyOf(row, layout.keyIndex)));
  }

  /** Creates the batch's staging table anew and loads its rows (with op and row hash) through the fast path. */
  async stage(batch: StagedBatch): Promise<void> {
    const names = this.names(this.targetName, batch.name);
    this.stagingName = batch.name;
    await this.driver.execute(this.compiler.createStaging(batch.schema, names));
    await insertCanonicalRows(this.driver, this.dialect, names.staging, stagingSchema(batch.schema).columns, batch.rows, (index) => {
      const row = batch.rows[index] as Row;
      return [batch.ops?.[index] ?? 'I', dataRowHash(row)];
    });
  }

  async validateStaging(batch: StagedBatch): Promise<StagingReport> {
    const staged = count(await this.driver.scalar(this.compiler.validateStaging(this.names(this.targetName, batch.name))));
    return { stagedRows: staged, expectedRows: batch.rows.length };
  }

  /** Runs each operation's statements in order, calling `onStep` before each statement. */
  async finalize(target: TargetSpec, batch: StagedBatch, operations: readonly PlanOperation[], onStep: StepHook): Promise<void> {
    const names = this.names(target.name, batch.name);
    this.countBeforeFinalize = await this.countTarget(target);
    if (target.shape === 'changelog') {
      this.countBeforeFinalize -= count(await this.driver.scalar(this.compiler.countStagedRowsInTarget(target, names)));
    }
    let step = 0;
    for (const operation of operations) {
      for (const statement of this.compiler.finalize(operation, target, names, batch)) {
        onStep(step++);
        await this.driver.execute([statement]);
      }
    }
  }

  async reconcile(target: TargetSpec, check: ReconcileCheck): Promise<ReconcileResult> {
    const names = this.names(target.name, this.stagingName);
    const observed = count(await this.driver.scalar(this.compiler.reconcile(check, target, names)));
    switch (check.kind) {
      case 'row_count':
      case 'current_rows':
        return reconcileResult(check, check.equals, observed);
      case 'row_count_delta':
        return reconcileResult(check, check.equals, observed - this.countBeforeFinalize);
      case 'keys_present':
        return reconcileResult(check, check.keys.length, observed);
      case 'keys_absent':
        return reconcileResult(check, 0, observed);
    }
  }

  async cleanup(batch: StagedBatch): Promise<void> {
    await this.driver.execute([this.compiler.dropStaging(this.names(this.targetName, batch.name))]);
  }

  /** The target read back through the dialect's read expressions, as canonical rows in the target schema. */
  async read(target: TargetSpec): Promise<TargetContent> {
    const schema = targetLayout(target).schema;
    const raw = await this.driver.query(this.compiler.selectTarget(target, this.names(target.name)));
    return { schema, rows: canonicalRows(raw, schema.columns) };
  }

  /** Closes the driver. */
  async close(): Promise<void> {
    await this.driver.close();
  }

  private async countTarget(target: TargetSpec): Promise<number> {
    return count(await this.driver.scalar(this.compiler.reconcile({ kind: 'row_count', equals: 0 }, target, this.names(target.name))));
  }

  private async currentRows(target: TargetSpec, layout: TargetLayout): Promise<readonly Row[]> {
    const { rows } = await this.read(target);
    return layout.isCurrentIndex < 0 ? rows : rows.filter((row) => row[layout.isCurrentIndex] === true);
  }

  private async ensureStateTable(): Promise<void> {
    if (this.stateTableReady) return;
    await this.driver.execute(this.compiler.createStateTable(this.names()));
    this.stateTableReady = true;
  }
}
