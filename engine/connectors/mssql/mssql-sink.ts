import type { CanonicalValue, Row } from '../../schema/index.ts';
import { dataRowOf, freezeRow, normalizeValue } from '../../schema/index.ts';
import type { KeyValue, PlanOperation, ReconcileCheck, StagedBatch, TargetLayout, TargetSpec } from '../../plan/index.ts';
import { dataRowHash, keyOf, targetLayout } from '../../plan/index.ts';
import type { LoadState, StateStore } from '../../state/index.ts';
import type { LoadNames, QualifiedName } from '../../sql/names.ts';
import { DEFAULT_STATE_TABLE, loadNames } from '../../sql/names.ts';
import { stagingSchema } from '../../sql/sql-compiler.ts';
import type { ReconcileResult, Sink, SinkCapabilities, SinkTransaction, StagingReport, StepHook, TargetContent } from '../sink.ts';
import { reconcileResult } from '../sink.ts';
import { bulkInsert } from './mssql-bulk.ts';
import { MssqlDialect } from './mssql-dialect.ts';
import type { MssqlDriver } from './mssql-driver.ts';

export interface MssqlSinkOptions {
  /** Schema of the target (created when missing); default the login's default schema (`dbo`). */
  readonly schema?: string;
  /** Schema of staging tables; default the target's schema. */
  readonly stagingSchema?: string;
  /** State table; default `etl_state.__dpone__loads`. */
  readonly stateTable?: QualifiedName;
  /** Dialect (capability overrides); default `new MssqlDialect()`. */
  readonly dialect?: MssqlDialect;
  /** Stage through TDS bulk load (default true); false stages with parameterised multi-row INSERTs. */
  readonly bulkLoad?: boolean;
}

/** A count as the server returns it (an int; text is accepted too). */
function count(value: unknown): number {
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw new Error(`mssql: expected a count, got ${String(value)}`);
  return parsed;
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
export class MssqlSink implements Sink {
  readonly family = 'mssql';
  readonly capabilities: SinkCapabilities;
  readonly transaction: SinkTransaction;
  readonly stateStore: StateStore;
  readonly dialect: MssqlDialect;
  private countBeforeFinalize = 0;
  private targetName?: string;
  /** The staging table of the batch being loaded (keys_present/keys_absent compare its keys). */
  private stagingName?: string;
  private stateTableReady = false;

  /** @param driver runs the statements; @param options schemas, state table, dialect and staging path (defaults above). */
  constructor(private readonly driver: MssqlDriver, private readonly options: MssqlSinkOptions = {}) {
    this.dialect = options.dialect ?? new MssqlDialect();
    this.capabilities = {
      kind: 'relational', transactional: true, upsert: true,
      partitionExchange: this.dialect.capabilities.partitionExchange, tombstones: false,
    };
    this.transaction = {
      begin: () => this.driver.begin(),
      commit: () => this.driver.commit(),
      rollback: () => this.driver.rollback(),
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

  async validateStaging(batch: StagedBatch): Promise<StagingReport> {
    const staged = count(await this.driver.scalar(this.compiler.validateStaging(this.names(this.targetName, batch.name))));
    return { stagedRows: staged, expectedRows: batch.rows.length };
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
          throw new Error(`mssql: column ${column.name} (${column.family}) read back ${JSON.stringify(raw[index])}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
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
