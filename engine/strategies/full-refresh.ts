import { columnIndex } from '../schema/index.ts';
import { keyOf } from '../plan/index.ts';
import type { LoadStrategy } from './strategy.ts';
import { buildPlan, requireSinkKind } from './strategy.ts';
import { deletesFromKeyReconciliation } from './delta.ts';

/**
 * full_refresh: the complete source snapshot replaces the target. Relational sinks stage the
 * snapshot and swap it in; event logs re-emit every row and tombstone keys that left the source.
 */
export const fullRefresh: LoadStrategy = {
  name: 'full_refresh',
  sinkKinds: ['relational', 'event_log'],
  targetShape: () => 'plain',
  async plan(context) {
    const kind = requireSinkKind(context, this);
    const snapshot = await context.source.readSnapshot();
    if (kind === 'relational') {
      return buildPlan(context, this.name, snapshot.rows.length, [{
        id: 'full',
        rows: snapshot.rows,
        operations: [{ kind: 'swap' }],
        reconcile: [{ kind: 'row_count', equals: snapshot.rows.length }],
        nextState: snapshot.cursor,
      }]);
    }
    const schema = context.target.dataSchema;
    const keyIndex = columnIndex(schema, schema.key);
    const sourceKeys = snapshot.rows.map((row) => keyOf(row, keyIndex));
    const removed = deletesFromKeyReconciliation(schema, sourceKeys, await context.sink.currentKeys(context.target));
    return buildPlan(context, this.name, snapshot.rows.length, [{
      id: 'full',
      rows: [...snapshot.rows, ...removed.rows],
      ops: [...snapshot.rows.map(() => 'U' as const), ...removed.ops],
      operations: [{ kind: 'emit_events', mode: 'upsert' }],
      reconcile: [
        { kind: 'row_count', equals: snapshot.rows.length },
        { kind: 'keys_absent', keys: removed.deletedKeys },
      ],
      nextState: snapshot.cursor,
    }]);
  },
};
