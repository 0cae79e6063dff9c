import type { Row, TableSchema } from '../schema/index.ts';
import { columnIndex } from '../schema/index.ts';
import type { ReconcileCheck } from '../plan/index.ts';
import type { LoadStrategy } from './strategy.ts';
import { buildPlan, requireSinkKind } from './strategy.ts';

/** Distinct partition values of some rows, sorted. */
export function partitionsOf(schema: TableSchema, rows: readonly Row[]): string[] {
  const column = partitionColumn(schema);
  const index = columnIndex(schema, column);
  return [...new Set(rows.map((row) => String(row[index])))].sort();
}

export function partitionColumn(schema: TableSchema): string {
  if (!schema.partitionColumn) throw new Error('the source table has no partition column');
  return schema.partitionColumn;
}

/** The count check for a set of replaced partitions. */
export function partitionCount(column: string, partitions: readonly string[], rows: number): ReconcileCheck {
  return { kind: 'row_count', equals: rows, predicate: { kind: 'in', column, values: partitions } };
}

/**
 * partition_replace: the partitions touched by changes since the watermark are read completely
 * from the source and replace the matching target partitions (partition exchange where the sink
 * supports it, delete+insert otherwise).
 */
export const partitionReplace: LoadStrategy = {
  name: 'partition_replace',
  sinkKinds: ['relational'],
  targetShape: () => 'plain',
  async plan(context) {
    requireSinkKind(context, this);
    const schema = context.target.dataSchema;
    const column = partitionColumn(schema);
    const { changes, cursor } = await context.source.readChanges(context.state);
    const partitions = partitionsOf(schema, changes.map((change) => change.row));
    const slice = await context.source.readSnapshot({ kind: 'in', column, values: partitions });
    return buildPlan(context, this.name, slice.rows.length, [{
      id: 'partitions',
      rows: slice.rows,
      operations: [{ kind: 'replace_partitions', column, partitions }],
      reconcile: [partitionCount(column, partitions, slice.rows.length)],
      nextState: cursor,
    }]);
  },
};
