import type { LoadStrategy } from './strategy.ts';
import { buildPlan, requireSinkKind } from './strategy.ts';
import { deltaFromChanges } from './delta.ts';

/**
 * incremental_merge: changes since the watermark, collapsed to the last per key, are upserted by
 * key; delete changes remove the key (event logs: keyed upserts and tombstones).
 */
export const incrementalMerge: LoadStrategy = {
  name: 'incremental_merge',
  sinkKinds: ['relational', 'event_log'],
  targetShape: () => 'plain',
  async plan(context) {
    const kind = requireSinkKind(context, this);
    const { changes, cursor } = await context.source.readChanges(context.state);
    const delta = deltaFromChanges(changes);
    return buildPlan(context, this.name, changes.length, [{
      id: 'delta',
      rows: delta.rows,
      ops: delta.ops,
      operations: [kind === 'relational' ? { kind: 'merge' } : { kind: 'emit_events', mode: 'upsert' }],
      reconcile: [
        { kind: 'keys_present', keys: delta.upsertKeys },
        { kind: 'keys_absent', keys: delta.deletedKeys },
      ],
      nextState: cursor,
    }]);
  },
};
