import type { CanonicalValue } from '../../schema/index.ts';
import type { PlanOperation, StagedBatch, TargetSpec } from '../../plan/index.ts';
import { dataRowHash } from '../../plan/index.ts';
import { stagingSchema } from '../../sql/sql-compiler.ts';
import type { SinkCapabilities, SinkTransaction, StepHook } from '../sink.ts';
import type { SqlTablePlacement } from '../sql-table-sink.ts';
import { SqlTableSink } from '../sql-table-sink.ts';
import { bulkInsert } from './mssql-bulk.ts';
import { MssqlDialect } from './mssql-dialect.ts';
import type { MssqlDriver } from './mssql-driver.ts';

export interface MssqlSinkOptions extends Omit<SqlTablePlacement, 'tablePrefix'> {
  /** Dialect (capability overrides); default `new MssqlDialect()`. */
  readonly dialect?: MssqlDialect;
  /** Stage through TDS bulk load (default true); false stages with parameterised multi-row INSERTs. */
  readonly bulkLoad?: boolean;
}

/** A staged batch's rows as staging rows: the data, then `__dpone__op` and `__dpone__row_hash`. */
export function mssqlStagingRows(batch: StagedBatch): CanonicalValue[][] {
  return batch.rows.map((row, index) => [...row, batch.ops?.[index] ?? 'I', dataRowHash(row)]);
}

/**
 * A SQL Server table sink. It runs the SQL the MSSQL dialect compiles from the LoadPlan IR through
 * an `MssqlDriver` and is transactional: finalize, reconcile and the state commit (a MERGE into
 * `etl_state.__dpone__loads`, through `stateStore`) share one transaction, so a failure anywhere
 * before the commit leaves target and state as they were. Staging is a TDS bulk load into a wire
 * table converted into the staging table by one INSERT … SELECT (see `MssqlCompiler.insertFromWire`),
 * or parameterised multi-row INSERTs below the 2,100-parameter limit.
 */
export class MssqlSink extends SqlTableSink<MssqlDialect, MssqlDriver> {
  readonly family = 'mssql';
  readonly capabilities: SinkCapabilities;
  readonly transaction: SinkTransaction;

  /** @param driver runs the statements; @param options schemas, state table, dialect and staging path (defaults above). */
  constructor(driver: MssqlDriver, private readonly options: MssqlSinkOptions = {}) {
    super(driver, options.dialect ?? new MssqlDialect(), options);
    this.capabilities = {
      kind: 'relational', transactional: true, upsert: true,
      partitionExchange: this.dialect.capabilities.partitionExchange, tombstones: false,
    };
    this.transaction = {
      begin: () => this.driver.begin(),
      commit: () => this.driver.commit(),
      rollback: () => this.driver.rollback(),
    };
  }

  /** Creates the batch's staging table anew and loads its rows (bulk load, or INSERTs; see the class). */
  async stage(batch: StagedBatch): Promise<void> {
    const names = this.names(this.targetName, batch.name);
    this.stagingName = batch.name;
    await this.driver.execute(this.compiler.createStaging(batch.schema, names));
    if (this.options.bulkLoad === false) {
      await this.driver.execute(this.compiler.stageInserts(batch, names));
      return;
    }
    await bulkInsert(this.driver, this.dialect, names.staging, stagingSchema(batch.schema).columns, mssqlStagingRows(batch));
  }

  /**
   * Runs each operation's compiled statements, in the sink transaction when the lifecycle opened one.
   * An operation whose DDL the compiler does not call transactional is refused inside it.
   */
  async finalize(target: TargetSpec, batch: StagedBatch, operations: readonly PlanOperation[], onStep: StepHook): Promise<void> {
    const names = this.names(target.name, batch.name);
    this.countBeforeFinalize = await this.countTarget(target);
    for (const [step, operation] of operations.entries()) {
      onStep(step);
      if (this.driver.inTransaction && !this.compiler.finalizeIsTransactional(operation, target)) {
        throw new Error(`mssql: ${operation.kind} cannot run inside a transaction with these capabilities`);
      }
      await this.driver.execute(this.compiler.finalize(operation, target, names, batch));
    }
  }
}
