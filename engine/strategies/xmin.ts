import type { LoadStrategy } from './strategy.ts';
import { buildPlan, requireSinkKind } from './strategy.ts';
import { deletesFromKeyReconciliation } from './delta.ts';
import { columnIndex } from '../schema/index.ts';
import { keyOf } from '../plan/index.ts';

/**
 * xmin (Postgres sources): rows written by transactions newer than the last loaded xmin are
 * upserted; physical deletes, which leave no row behind, are found by reconciling the source's key
 * set against the target's.
 */
export const xmin: LoadStrategy = {
  name: 'xmin',
  sinkKinds: ['relational', 'event_log'],
  targetShape: () => 'plain',
  async plan(context) {
    const kind = requireSinkKind(context, this);
    const read = await context.source.readXmin(context.state);
    const schema = context.target.dataSchema;
    const keyIndex = columnIndex(schema, schema.key);
    const deletes = deletesFromKeyReconciliation(schema, read.keys, await context.sink.currentKeys(context.target));
    const upsertKeys = read.rows.map((row) => keyOf(row, keyIndex));
    return buildPlan(context, this.name, read.rows.length + deletes.rows.length, [{
      id: 'xmin',
      rows: [...read.rows, ...deletes.rows],
      ops: [...read.rows.map(() => 'U' as const), ...deletes.ops],
      operations: [kind === 'relational' ? { kind: 'merge' } : { kind: 'emit_events', mode: 'upsert' }],
      reconcile: [
        { kind: 'keys_present', keys: upsertKeys },
        { kind: 'keys_absent', keys: deletes.deletedKeys },
      ],
      nextState: read.cursor,
    }]);
  },
};
