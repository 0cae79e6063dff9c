import type { LoadStrategy } from './strategy.ts';
import { buildPlan, requireSinkKind } from './strategy.ts';
import { deltaFromSnapshot } from './delta.ts';

/**
 * scd2: the dimension snapshot is compared with the current versions by key and row hash; changed
 * and deleted keys have their current version closed at the snapshot instant, and changed and new
 * keys get a new current version valid from that instant.
 */
export const scd2: LoadStrategy = {
  name: 'scd2',
  sinkKinds: ['relational'],
  targetShape: () => 'scd2',
  async plan(context) {
    requireSinkKind(context, this);
    const snapshot = await context.source.readSnapshot();
    const delta = deltaFromSnapshot(context.target.dataSchema, snapshot.rows, await context.sink.currentHashes(context.target));
    return buildPlan(context, this.name, snapshot.rows.length, [{
      id: 'scd2',
      rows: delta.rows,
      ops: delta.ops,
      operations: [{ kind: 'scd2_expire_insert', asOf: snapshot.asOf }],
      reconcile: [
        { kind: 'current_rows', equals: snapshot.rows.length },
        { kind: 'keys_absent', keys: delta.deletedKeys },
      ],
      nextState: snapshot.cursor,
    }]);
  },
};
