import type { PlanOperation, StagedBatch, TargetSpec } from '../../plan/index.ts';
import type { SqlStatement } from '../../sql/sql-statement.ts';
import type { TransactionStatements } from '../../sql/sql-compiler.ts';
import { stagingSchema } from '../../sql/sql-compiler.ts';
import type { SinkCapabilities, SinkTransaction, StepHook } from '../sink.ts';
import type { SqlTablePlacement } from '../sql-table-sink.ts';
import { SqlTableSink } from '../sql-table-sink.ts';
import { copyRows } from './postgres-copy.ts';
import { PostgresDialect } from './postgres-dialect.ts';
import type { PostgresDriver } from './postgres-driver.ts';

export interface PostgresSinkOptions extends Omit<SqlTablePlacement, 'tablePrefix'> {
  /** Dialect (capability overrides); default `new PostgresDialect()`. */
  readonly dialect?: PostgresDialect;
}

/**
 * A PostgreSQL table sink. It runs the SQL the Postgres dialect compiles from the LoadPlan IR through
 * a `PostgresDriver` and is transactional: finalize, reconcile and the state commit (in
 * `etl_state.__dpone__loads`, through `stateStore`) share one transaction. Staging uses the COPY
 * fast path when the driver can COPY, parameterised multi-row INSERTs otherwise.
 */
export class PostgresSink extends SqlTableSink<PostgresDialect, PostgresDriver> {
  readonly family = 'postgres';
  readonly capabilities: SinkCapabilities;
  readonly transaction: SinkTransaction;
  private readonly statements: TransactionStatements;

  /** @param driver runs the statements; @param options schemas, state table and dialect (defaults above). */
  constructor(driver: PostgresDriver, options: PostgresSinkOptions = {}) {
    super(driver, options.dialect ?? new PostgresDialect(), options);
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
  }

  /**
   * Creates the batch's staging table anew and loads its rows: one `COPY … FROM STDIN` when the
   * driver can COPY, else as many INSERTs as the parameter limit needs. COPY computes row hashes only
   * when the prepared target keeps them (`stagedMeta`).
   */
  async stage(batch: StagedBatch): Promise<void> {
    const names = this.names(this.targetName, batch.name);
    this.stagingName = batch.name;
    await this.driver.execute(this.compiler.createStaging(batch.schema, names));
    if (!this.driver.canCopy) {
      await this.driver.execute(this.compiler.stageInserts(batch, names));
      return;
    }
    await copyRows(this.driver, this.dialect, names.staging, stagingSchema(batch.schema).columns, batch.rows, this.stagedMeta(batch));
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

  /**
   * Concurrent `CREATE … IF NOT EXISTS` of one table can fail with a unique violation in the
   * catalog, so sinks of parallel loads create the state table one at a time, under a
   * transaction-scoped advisory lock named after the table.
   */
  protected override async createStateTable(statements: readonly SqlStatement[]): Promise<void> {
    if (this.driver.inTransaction) {
      await this.driver.execute(statements);
      return;
    }
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
}
