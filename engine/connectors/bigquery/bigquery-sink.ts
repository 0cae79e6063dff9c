import type { CanonicalValue, ColumnDef, Row } from '../../schema/index.ts';
import { dataRowOf, freezeRow, normalizeValue } from '../../schema/index.ts';
import type { KeyValue, PlanOperation, ReconcileCheck, StagedBatch, TargetLayout, TargetSpec } from '../../plan/index.ts';
import { dataRowHash, keyOf, targetLayout } from '../../plan/index.ts';
import type { LoadState, StateStore } from '../../state/index.ts';
import type { LoadNames, QualifiedName } from '../../sql/names.ts';
import { loadNames, siblingName } from '../../sql/names.ts';
import type { TransactionStatements } from '../../sql/sql-compiler.ts';
import { stagingSchema } from '../../sql/sql-compiler.ts';
import type { ReconcileResult, Sink, SinkCapabilities, SinkTransaction, StagingReport, StepHook, TargetContent } from '../sink.ts';
import { reconcileResult } from '../sink.ts';
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

function count(value: unknown): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new Error(`bigquery: expected a count, got ${String(value)}`);
  return parsed;
}

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
export class BigQuerySink implements Sink {
  readonly family = 'bigquery';
  readonly capabilities: SinkCapabilities;
  readonly transaction: SinkTransaction;
  readonly stateStore: StateStore;
  readonly dialect: BigQueryDialect;
  private readonly statements: TransactionStatements;
  private countBeforeFinalize = 0;
  private targetName?: string;
  private stagingName?: string;
  /** The lifecycle asked for a transaction; it opens in finalize, after any DDL operation. */
  private transactionRequested = false;
  private stateTableReady = false;

  constructor(private readonly driver: BigQueryDriver, private readonly options: BigQuerySinkOptions) {
    this.dialect = options.dialect ?? new BigQueryDialect();
    const statements = this.dialect.compiler.transactionStatements();
    this.statements = statements;
    this.capabilities = { kind: 'relational', transactional: true, upsert: true, partitionExchange: false, tombstones: false };
    this.transaction = {
      begin: async () => { this.transactionRequested = true; },
      commit: () => this.endTransaction(() => this.driver.commit(this.statements.commit)),
      rollback: () => this.endTransaction(() => this.driver.rollback(this.statements.rollback)),
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

  /** Names of a load inside the dataset, each table name prefixed by `tablePrefix`. */
  names(targetName = this.targetName ?? '__dpone__none', staging = '__dpone__none'): LoadNames {
    const prefix = this.options.tablePrefix ?? '';
    return loadNames(`${prefix}${targetName}`, `${prefix}${staging}`, {
      schema: this.options.dataset, state: { schema: this.options.dataset, name: BIGQUERY_STATE_TABLE },
    });
  }

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

  async validateStaging(batch: StagedBatch): Promise<StagingReport> {
    const staged = count(await this.driver.scalar(this.compiler.validateStaging(this.names(this.targetName, batch.name))));
    return { stagedRows: staged, expectedRows: batch.rows.length };
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

  async reconcile(target: TargetSpec, check: ReconcileCheck): Promise<ReconcileResult> {
    const observed = count(await this.driver.scalar(this.compiler.reconcile(check, target, this.names(target.name, this.stagingName))));
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

  async read(target: TargetSpec): Promise<TargetContent> {
    const schema = targetLayout(target).schema;
    const rows = await this.driver.query(this.compiler.selectTarget(target, this.names(target.name)));
    return {
      schema,
      rows: rows.map((raw) => freezeRow(schema.columns.map((column, index) => {
        try {
          return normalizeValue(column.family, raw[index]);
        } catch (error) {
          throw new Error(`bigquery: column ${column.name} (${column.family}) read back ${String(raw[index])}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
      }))),
    };
  }

  /** Ends the driver's session. */
  async close(): Promise<void> {
    await this.driver.close();
  }

  private async ensureStateTable(): Promise<void> {
    if (this.stateTableReady) return;
    await this.driver.execute(this.compiler.createStateTable(this.names()));
    this.stateTableReady = true;
  }

  private async openRequestedTransaction(): Promise<void> {
    if (this.transactionRequested && !this.driver.inTransaction) await this.driver.begin(this.statements.begin);
  }

  private async endTransaction(end: () => Promise<void>): Promise<void> {
    this.transactionRequested = false;
    if (this.driver.inTransaction) await end();
  }

  private async countTarget(target: TargetSpec): Promise<number> {
    return count(await this.driver.scalar(this.compiler.reconcile({ kind: 'row_count', equals: 0 }, target, this.names(target.name))));
  }

  private async currentRows(target: TargetSpec, layout: TargetLayout): Promise<readonly Row[]> {
    const { rows } = await this.read(target);
    return layout.isCurrentIndex < 0 ? rows : rows.filter((row) => row[layout.isCurrentIndex] === true);
  }
}
