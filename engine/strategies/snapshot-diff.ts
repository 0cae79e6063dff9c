import type { LoadStrategy } from './strategy.ts';
import { buildPlan, requireSinkKind } from './strategy.ts';
import { deltaFromSnapshot } from './delta.ts';

/**
 * snapshot_diff: the complete snapshot is compared with the target by key and `__dpone__row_hash`;
 * only differences are staged and merged, and target-only keys are deleted (tombstoned on logs).
 */
export const snapshotDiff: LoadStrategy = {
  name: 'snapshot_diff',
  sinkKinds: ['relational', 'event_log'],
  targetShape: (sinkKind) => (sinkKind === 'relational' ? 'hashed' : 'plain'),
  async plan(context) {
    const kind = requireSinkKind(context, this);
    const snapshot = await context.source.readSnapshot();
    const delta = deltaFromSnapshot(context.target.dataSchema, snapshot.rows, await context.sink.currentHashes(context.target));
    return buildPlan(context, this.name, snapshot.rows.length, [{
      id: 'diff',
      rows: delta.rows,
      ops: delta.ops,
      operations: [kind === 'relational' ? { kind: 'merge' } : { kind: 'emit_events', mode: 'upsert' }],
      reconcile: [
        { kind: 'row_count', equals: snapshot.rows.length },
        { kind: 'keys_absent', keys: delta.deletedKeys },
      ],
      nextState: snapshot.cursor,
    }]);
  },
};
