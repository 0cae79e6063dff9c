import type { Row } from '../../schema/index.ts';
import { dataRowOf, freezeRow, normalizeValue } from '../../schema/index.ts';
import type { KeyValue, PlanOperation, ReconcileCheck, StagedBatch, TargetLayout, TargetSpec } from '../../plan/index.ts';
import { dataRowHash, keyOf, targetLayout } from '../../plan/index.ts';
import type { LoadState, StateStore } from '../../state/index.ts';
import type { LoadNames, QualifiedName } from '../../sql/names.ts';
import { DEFAULT_STATE_TABLE, loadNames } from '../../sql/names.ts';
import type { TransactionStatements } from '../../sql/sql-compiler.ts';
import type { ReconcileResult, Sink, SinkCapabilities, SinkTransaction, StagingReport, StepHook, TargetContent } from '../sink.ts';
import { reconcileResult } from '../sink.ts';
import { PostgresDialect } from './postgres-dialect.ts';
import type { PostgresDriver } from './postgres-driver.ts';

export interface PostgresSinkOptions {
  /** Schema of the target (created when missing); default the connection's search path (`public`). */
  readonly schema?: string;
  /** Schema of staging tables; default the target's schema. */
  readonly stagingSchema?: string;
  /** State table; default `etl_state.__dpone__loads`. */
  readonly stateTable?: QualifiedName;
  /** Dialect (capability overrides); default `new PostgresDialect()`. */
  readonly dialect?: PostgresDialect;
}

/** A count returned by the server as text (the driver parses nothing). */
function count(value: unknown): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new Error(`postgres: expected a count, got ${String(value)}`);
  return parsed;
}

/**
 * A PostgreSQL table sink. It runs the SQL the Postgres dialect compiles from the LoadPlan IR through
 * a `PostgresDriver` and is transactional: finalize, reconcile and the state commit (in
 * `etl_state.__dpone__loads`, through `stateStore`) share one transaction. Staging uses
 * parameterised multi-row INSERTs (the COPY fast path is separate).
 */
export class PostgresSink implements Sink {
  readonly family = 'postgres';
  readonly capabilities: SinkCapabilities;
  readonly transaction: SinkTransaction;
  readonly stateStore: StateStore;
  readonly dialect: PostgresDialect;
  private readonly statements: TransactionStatements;
  private countBeforeFinalize = 0;
  private targetName?: string;
  /** The staging table of the batch being loaded (keys_present/keys_absent compare its keys). */
  private stagingName?: string;
  private stateTableReady = false;

  /** @param driver runs the statements; @param options schemas, state table and dialect (defaults above). */
  constructor(private readonly driver: PostgresDriver, private readonly options: PostgresSinkOptions = {}) {
    this.dialect = options.dialect ?? new PostgresDialect();
    const statements = this.dialect.compiler.transactionStatements();
    if (!statements) throw new Error('postgres dialect without transactions');
    this.statements = statements;
    this.capabilities = {
      kind: 'relational', transactional: true, upsert: true,
      partitionExchange: this.dialect.capabilities.partitionExchange, tombstones: false,
    };
    this.transaction = {
      begin: () => this.driver.begin(this.statements.begin),
      commit: () => this.driver.commit(this.statements.commit),
      rollback: () => this.driver.rollback(this.statements.rollback),
    };
    this.stateStore = {
      load: async (pipeline) => {
        await this.ensureStateTable();
        const text = await this.driver.scalar(this.compiler.loadState(pipeline, this.names()));
        return text === null ? {} : (JSON.parse(String(text)) as LoadState);
      },
      commit: async (pipeline, state) => {
        await this.ensureStateTable();
        await this.driver.query(this.compiler.commitState(pipeline, state, this.names()));
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

  /** Creates the batch's staging table anew and inserts its rows (as many INSERTs as the parameter limit needs). */
  async stage(batch: StagedBatch): Promise<void> {
    const names = this.names(this.targetName, batch.name);
    this.stagingName = batch.name;
    await this.driver.execute(this.compiler.createStaging(batch.schema, names));
    await this.driver.execute(this.compiler.stageInserts(batch, names));
  }

  async validateStaging(batch: StagedBatch): Promise<StagingReport> {
    const staged = count(await this.driver.scalar(this.compiler.validateStaging(this.names(this.targetName, batch.name))));
    return { stagedRows: staged, expectedRows: batch.rows.length };
  }

  /** Runs each operation's compiled statements, in the sink transaction when the lifecycle opened one. */
  async finalize(target: TargetSpec, batch: StagedBatch, operations: readonly PlanOperation[], onStep: StepHook): Promise<void> {
    const names = this.names(target.name, batch.name);
    this.countBeforeFinalize = await this.countTarget(target);
    for (const [step, operation] of operations.entries()) {
      onStep(step);
      if (this.driver.inTransaction && !this.compiler.finalizeIsTransactional(operation, target)) {
        throw new Error(`postgres: ${operation.kind} cannot run inside a transaction with these capabilities`);
      }
      await this.driver.execute(this.compiler.finalize(operation, target, names, batch));
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
    await this.driver.query(this.compiler.dropStaging(this.names(this.targetName, batch.name)));
  }

  /** The target read back through the dialect's read expressions, as canonical rows in the target schema. */
  async read(target: TargetSpec): Promise<TargetContent> {
    const schema = targetLayout(target).schema;
    const rows = await this.driver.query(this.compiler.selectTarget(target, this.names(target.name)));
    return {
      schema,
      rows: rows.map((raw) => freezeRow(schema.columns.map((column, index) => {
        try {
          return normalizeValue(column.family, raw[index]);
        } catch (error) {
          throw new Error(`postgres: column ${column.name} (${column.family}) read back ${JSON.stringify(raw[index])}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
      }))),
    };
  }

  /** Closes the driver's pool. */
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
