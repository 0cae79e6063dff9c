import type { Row } from '../../schema/index.ts';
import { dataRowOf, freezeRow, normalizeValue } from '../../schema/index.ts';
import type { KeyValue, PlanOperation, ReconcileCheck, StagedBatch, TargetLayout, TargetSpec } from '../../plan/index.ts';
import { dataRowHash, keyOf, targetLayout } from '../../plan/index.ts';
import type { LoadState, StateStore } from '../../state/index.ts';
import type { LoadNames, QualifiedName } from '../../sql/names.ts';
import { DEFAULT_STATE_TABLE, loadNames } from '../../sql/names.ts';
import type { TransactionStatements } from '../../sql/sql-compiler.ts';
import { stagingSchema } from '../../sql/sql-compiler.ts';
import type { ReconcileResult, Sink, SinkCapabilities, SinkTransaction, StagingReport, StepHook, TargetContent } from '../sink.ts';
import { reconcileResult } from '../sink.ts';
import { copyRows } from './postgres-copy.ts';
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
 * The staged row hash of a batch loaded into a target without a `__dpone__row_hash` column: no
 * operation reads it then, and hashing every row would cost more than encoding it for COPY.
 */
const UNREAD_ROW_HASH = '';

/**
 * A PostgreSQL table sink. It runs the SQL the Postgres dialect compiles from the LoadPlan IR through
 * a `PostgresDriver` and is transactional: finalize, reconcile and the state commit (in
 * `etl_state.__dpone__loads`, through `stateStore`) share one transaction. Staging uses the COPY
 * fast path when the driver can COPY, parameterised multi-row INSERTs otherwise.
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
  /** The prepared target: whether it keeps row hashes decides whether staging computes them. */
  private target?: TargetSpec;
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
    this.target = target;
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

  /**
   * Creates the batch's staging table anew and loads its rows: one `COPY … FROM STDIN` when the
   * driver can COPY, else as many INSERTs as the parameter limit needs. COPY computes row hashes only
   * when the prepared target keeps them (see UNREAD_ROW_HASH).
   */
  async stage(batch: StagedBatch): Promise<void> {
    const names = this.names(this.targetName, batch.name);
    this.stagingName = batch.name;
    await this.driver.execute(this.compiler.createStaging(batch.schema, names));
    if (!this.driver.canCopy) {
      await this.driver.execute(this.compiler.stageInserts(batch, names));
      return;
    }
    const hashed = this.target === undefined || targetLayout(this.target).hashIndex >= 0;
    await copyRows(this.driver, this.dialect, names.staging, stagingSchema(batch.schema).columns, batch.rows,
      (row, index) => [batch.ops?.[index] ?? 'I', hashed ? dataRowHash(row) : UNREAD_ROW_HASH]);
  }

  async validateStaging(batch: StagedBatch): Promise<StagingReport> {
    const staged = count(await this.driver.scalar(this.compiler.validateStaging(this.names(this.targetName, batch.name))));
    return { stagedRows: staged, expectedRows: batch.rows.length };
  }

  /**
   * Runs each operation's compiled statements, in the sink transaction when the lifecycle opened one.
   * `onStep` is called before every statement (steps count statements across operations), so a fault
   * can fall between the statements of one operation, e.g. after a merge's delete and before its upsert.
   */
  async finalize(target: TargetSpec, batch: StagedBatch, operations: readonly PlanOperation[], onStep: StepHook): Promise<void> {
    const names = this.names(target.name, batch.name);
    this.countBeforeFinalize = await this.countTarget(target);
    let step = 0;
    for (const operation of operations) {
      if (this.driver.inTransaction && !this.compiler.finalizeIsTransactional(operation, target)) {
        throw new Error(`postgres: ${operation.kind} cannot run inside a transaction with these capabilities`);
      }
      for (const statement of this.compiler.finalize(operation, target, names, batch)) {
        onStep(step++);
        await this.driver.query(statement);
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

  /**
   * Creates the state table when missing. Concurrent `CREATE … IF NOT EXISTS` of one table can fail
   * with a unique violation in the catalog, so sinks of parallel loads create it one at a time, under
   * a transaction-scoped advisory lock named after the table.
   */
  private async ensureStateTable(): Promise<void> {
    if (this.stateTableReady) return;
    const statements = this.compiler.createStateTable(this.names());
    if (this.driver.inTransaction) {
      await this.driver.execute(statements);
    } else {
      await this.driver.begin();
      try {
        await this.driver.query({ sql: 'SELECT pg_advisory_xact_lock(hashtext($1))', params: [this.dialect.qualified(this.names().state)] });
        await this.driver.execute(statements);
        await this.driver.commit();
      } catch (error) {
        await this.driver.rollback().catch(() => undefined);
        throw error;
      }
    }
    this.stateTableReady = true;
  }
}
