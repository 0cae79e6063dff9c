import type { CanonicalValue, ColumnDef } from '../../schema/index.ts';
import type { PlanOperation, StagedBatch, TargetSpec } from '../../plan/index.ts';
import { dataRowHash } from '../../plan/index.ts';
import type { QualifiedName } from '../../sql/names.ts';
import { siblingName } from '../../sql/names.ts';
import type { TransactionStatements } from '../../sql/sql-compiler.ts';
import { stagingSchema } from '../../sql/sql-compiler.ts';
import type { SinkCapabilities, SinkTransaction, StepHook } from '../sink.ts';
import { SqlTableSink } from '../sql-table-sink.ts';
import { BigQueryDialect } from './bigquery-dialect.ts';
import type { BigQueryDriver } from './bigquery-driver.ts';

export interface BigQuerySinkOptions {
  /** Dataset of targets, staging and the state table `<dataset>.__dpone__loads`. */
  readonly dataset: string;
  /** Prefix of every table name the sink creates (a case's namespace inside a shared dataset); default none. */
  readonly tablePrefix?: string;
  /** Dialect (capability overrides); default `new BigQueryDialect()`. */
  readonly dialect?: BigQueryDialect;
}

/** The state table's name inside the dataset. */
export const BIGQUERY_STATE_TABLE = '__dpone__loads';

/** Rows of `columns` as NDJSON objects of canonical text (the wire table's STRING columns). */
export function bigQueryWireRows(columns: readonly ColumnDef[], rows: readonly (readonly CanonicalValue[])[]): Record<string, string | null>[] {
  return rows.map((row) => Object.fromEntries(columns.map((column, index) => {
    const value = row[index] ?? null;
    return [column.name, value === null ? null : String(value)];
  })));
}

/**
 * A BigQuery table sink (vendor_live). It runs the SQL the BigQuery dialect compiles through a
 * `BigQueryDriver`; staging is a load job into a STRING wire table converted by one INSERT … SELECT.
 *
 * Transactions: BigQuery runs multi-statement transactions inside a session, so the sink is
 * transactional like the Postgres one — `BEGIN TRANSACTION` before finalize, then reconcile and the
 * state MERGE into `<dataset>.__dpone__loads`, then `COMMIT TRANSACTION`, all in the driver's
 * session. DDL cannot join a transaction: an operation `finalizeIsTransactional` refuses (the swap,
 * one atomic `CREATE OR REPLACE TABLE … AS SELECT`) runs first, before the transaction opens. It is
 * rerun-safe rather than rolled back: if reconcile then fails, the state stays uncommitted and the
 * rerun swaps the same snapshot in again.
 */
export class BigQuerySink extends SqlTableSink<BigQueryDialect, BigQueryDriver> {
  readonly family = 'bigquery';
  readonly capabilities: SinkCapabilities = { kind: 'relational', transactional: true, upsert: true, partitionExchange: false, tombstones: false };
  readonly transaction: SinkTransaction;
  private readonly statements: TransactionStatements;
  /** The lifecycle asked for a transaction; it opens in finalize, after any DDL operation. */
  private transactionRequested = false;

  /** @param driver runs the statements in its session; @param options dataset, table prefix and dialect. */
  constructor(driver: BigQueryDriver, private readonly options: BigQuerySinkOptions) {
    super(driver, options.dialect ?? new BigQueryDialect(), {
      schema: options.dataset,
      stateTable: { schema: options.dataset, name: BIGQUERY_STATE_TABLE },
      ...(options.tablePrefix === undefined ? {} : { tablePrefix: options.tablePrefix }),
    });
    this.statements = this.dialect.compiler.transactionStatements();
    this.transaction = {
      begin: async () => { this.transactionRequested = true; },
      commit: () => this.endTransaction(() => this.driver.commit(this.statements.commit)),
      rollback: () => this.endTransaction(() => this.driver.rollback(this.statements.rollback)),
    };
  }

  /** Creates staging anew and fills it: a load job into the wire table, then its conversion. */
  async stage(batch: StagedBatch): Promise<void> {
    const names = this.names(this.targetName, batch.name);
    this.stagingName = batch.name;
    await this.driver.execute(this.compiler.createStaging(batch.schema, names));
    if (batch.rows.length === 0) return;
    const columns = stagingSchema(batch.schema).columns;
    const rows = batch.rows.map((row, index) => [...row, batch.ops?.[index] ?? 'I', dataRowHash(row)]);
    await this.loadRows(names.staging, columns, rows);
  }

  /** Appends canonical rows of `columns` to table `into` (load job into a wire table, then one INSERT … SELECT). */
  async loadRows(into: QualifiedName, columns: readonly ColumnDef[], rows: readonly (readonly CanonicalValue[])[]): Promise<void> {
    if (rows.length === 0) return;
    const wire = siblingName(into, 'dpone_wire');
    await this.driver.execute(this.compiler.createWireTable(wire, columns));
    try {
      await this.driver.loadNdjson(this.options.dataset, wire.name, bigQueryWireRows(columns, rows));
      await this.driver.query(this.compiler.insertFromWire(into, wire, columns));
    } finally {
      await this.driver.query(this.compiler.dropWireTable(wire));
    }
  }

  /**
   * Runs the operations: DDL ones (swap) first and outside any transaction, then — when the
   * lifecycle asked for one — `BEGIN TRANSACTION` before the transactional ones, so that reconcile
   * and the state commit run inside it too.
   */
  async finalize(target: TargetSpec, batch: StagedBatch, operations: readonly PlanOperation[], onStep: StepHook): Promise<void> {
    const names = this.names(target.name, batch.name);
    this.countBeforeFinalize = await this.countTarget(target);
    for (const [step, operation] of operations.entries()) {
      onStep(step);
      const transactional = this.compiler.finalizeIsTransactional(operation, target);
      if (!transactional && this.driver.inTransaction) {
        throw new Error(`bigquery: ${operation.kind} is DDL and cannot follow an operation inside the transaction`);
      }
      if (transactional) await this.openRequestedTransaction();
      await this.driver.execute(this.compiler.finalize(operation, target, names, batch));
    }
    await this.openRequestedTransaction();
  }

  private async openRequestedTransaction(): Promise<void> {
    if (this.transactionRequested && !this.driver.inTransaction) await this.driver.begin(this.statements.begin);
  }

  private async endTransaction(end: () => Promise<void>): Promise<void> {
    this.transactionRequested = false;
    if (this.driver.inTransaction) await end();
  }
}
