import type { Row } from '../schema/index.ts';
import { dataRowOf } from '../schema/index.ts';
import type { KeyValue, PlanOperation, ReconcileCheck, StagedBatch, TargetLayout, TargetSpec } from '../plan/index.ts';
import { dataRowHash, keyOf, targetLayout } from '../plan/index.ts';
import type { LoadState, StateStore } from '../state/index.ts';
import type { LoadNames, QualifiedName } from '../sql/names.ts';
import { DEFAULT_STATE_TABLE, loadNames } from '../sql/names.ts';
import type { SqlDialect } from '../sql/sql-dialect.ts';
import type { SqlStatement } from '../sql/sql-statement.ts';
import type { ReconcileResult, Sink, SinkCapabilities, StagingReport, StepHook, TargetContent } from './sink.ts';
import { reconcileResult } from './sink.ts';

/** The row hash staged for a target that keeps none (see `SqlTableSink.stagedMeta`). */
const UNREAD_ROW_HASH = '';
import { canonicalRows, parseCount } from './sql-rows.ts';

/** What a SQL table sink needs of its driver (each family's driver has more). */
export interface SqlSinkDriver {
  /** Runs one statement; its rows as arrays in column order. */
  query(statement: SqlStatement): Promise<readonly (readonly unknown[])[]>;
  /** Runs statements in order. */
  execute(statements: readonly SqlStatement[]): Promise<void>;
  /** The first column of the first row, or null when there is no row. */
  scalar(statement: SqlStatement): Promise<unknown>;
  close(): Promise<void>;
}

/** Where a SQL sink's tables go. */
export interface SqlTablePlacement {
  /** Schema (ClickHouse: database) of the target, created when missing; default the connection's. */
  readonly schema?: string;
  /** Schema of staging tables; default the target's schema. */
  readonly stagingSchema?: string;
  /** State table; default `etl_state.__dpone__loads`. */
  readonly stateTable?: QualifiedName;
  /** Prefix of every table name the sink creates (a case's namespace inside a shared schema); default none. */
  readonly tablePrefix?: string;
}

/** The table name of a load's staging or target where only the other tables are used. */
const NO_TABLE = '__dpone__none';

/**
 * What every SQL table sink does the same way over its dialect's compiler: names, the state store,
 * target preparation, current hashes and keys, staging validation, reconcile, cleanup and read-back.
 * A family adds its staging path (`stage`), its `finalize` (transactions, step granularity,
 * rerun-safety) and, when transactional, its `transaction`.
 */
export abstract class SqlTableSink<Dialect extends SqlDialect, Driver extends SqlSinkDriver> implements Sink {
  abstract readonly family: string;
  abstract readonly capabilities: SinkCapabilities;
  readonly stateStore: StateStore;
  /** Target row count before the last finalize (`row_count_delta`). */
  protected countBeforeFinalize = 0;
  /** The prepared target: whether it keeps row hashes decides whether staging computes them. */
  private preparedTarget?: TargetSpec;
  protected targetName?: string;
  /** The staging table of the batch being loaded (keys_present/keys_absent compare its keys). */
  protected stagingName?: string;
  private stateTableReady = false;

  protected constructor(protected readonly driver: Driver, readonly dialect: Dialect, private readonly placement: SqlTablePlacement) {
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

  protected get compiler(): Dialect['compiler'] {
    return this.dialect.compiler;
  }

  /** Names of a load; staging defaults to a placeholder where only the target or state is used. */
  names(targetName = this.targetName ?? NO_TABLE, staging = NO_TABLE): LoadNames {
    const { schema, stagingSchema, stateTable, tablePrefix = '' } = this.placement;
    return loadNames(`${tablePrefix}${targetName}`, `${tablePrefix}${staging}`, {
      ...(schema === undefined ? {} : { schema }),
      ...(stagingSchema === undefined ? {} : { stagingSchema }),
      state: stateTable ?? DEFAULT_STATE_TABLE,
    });
  }

  /** Creates the state table and the target when missing, and notes the target's row count. */
  async prepare(target: TargetSpec): Promise<void> {
    this.targetName = target.name;
    this.preparedTarget = target;
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

  abstract stage(batch: StagedBatch): Promise<void>;

  async validateStaging(batch: StagedBatch): Promise<StagingReport> {
    const staged = this.count(await this.driver.scalar(this.compiler.validateStaging(this.names(this.targetName, batch.name))));
    return { stagedRows: staged, expectedRows: batch.rows.length };
  }

  abstract finalize(target: TargetSpec, batch: StagedBatch, operations: readonly PlanOperation[], onStep: StepHook): Promise<void>;

  async reconcile(target: TargetSpec, check: ReconcileCheck): Promise<ReconcileResult> {
    const observed = this.count(await this.driver.scalar(this.compiler.reconcile(check, target, this.names(target.name, this.stagingName))));
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
    return { schema, rows: canonicalRows(this.family, raw, schema.columns) };
  }

  /** Closes the driver (its pool, client or session). */
  async close(): Promise<void> {
    await this.driver.close();
  }

  /** A count the server returned. */
  /**
   * The op and row hash a fast path stages with each row of `batch`. A target without a
   * `__dpone__row_hash` column never reads the staged hash, so it is left empty
   * (`UNREAD_ROW_HASH`): hashing every row costs about as much as encoding it.
   */
  protected stagedMeta(batch: StagedBatch): (row: Row, index: number) => readonly [string, string] {
    const hashed = this.preparedTarget === undefined || targetLayout(this.preparedTarget).hashIndex >= 0;
    return (row, index) => [batch.ops?.[index] ?? 'I', hashed ? dataRowHash(row) : UNREAD_ROW_HASH];
  }

  protected count(value: unknown): number {
    return parseCount(this.family, value);
  }

  protected async countTarget(target: TargetSpec): Promise<number> {
    return this.count(await this.driver.scalar(this.compiler.reconcile({ kind: 'row_count', equals: 0 }, target, this.names(target.name))));
  }

  /** Creates the state table once per sink. */
  protected async ensureStateTable(): Promise<void> {
    if (this.stateTableReady) return;
    await this.createStateTable(this.compiler.createStateTable(this.names()));
    this.stateTableReady = true;
  }

  /** Runs the state table's `CREATE … IF NOT EXISTS` statements (a family may serialise them). */
  protected async createStateTable(statements: readonly SqlStatement[]): Promise<void> {
    await this.driver.execute(statements);
  }

  private async currentRows(target: TargetSpec, layout: TargetLayout): Promise<readonly Row[]> {
    const { rows } = await this.read(target);
    return layout.isCurrentIndex < 0 ? rows : rows.filter((row) => row[layout.isCurrentIndex] === true);
  }
}
