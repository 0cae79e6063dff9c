import type { LoadStrategy } from './strategy.ts';
import { buildPlan, requireSinkKind } from './strategy.ts';
import { deltaFromChanges } from './delta.ts';

/**
 * cdc (Postgres logical decoding, SQL Server CDC): change events after the last applied LSN.
 * Relational sinks apply the last change per key; event logs receive every original event, deletes
 * as tombstones. The LSN is committed only after the sink reconciled.
 */
export const cdc: LoadStrategy = {
  name: 'cdc',
  sinkKinds: ['relational', 'event_log'],
  targetShape: () => 'plain',
  async plan(context) {
    const kind = requireSinkKind(context, this);
    const { changes, cursor } = await context.source.readCdc(context.state);
    const delta = deltaFromChanges(changes);
    const staged = kind === 'relational'
      ? { rows: delta.rows, ops: delta.ops }
      : { rows: changes.map((change) => change.row), ops: changes.map((change) => change.op) };
    return buildPlan(context, this.name, changes.length, [{
      id: 'cdc',
      ...staged,
      operations: [kind === 'relational' ? { kind: 'merge' } : { kind: 'emit_events', mode: 'upsert' }],
      reconcile: [
        { kind: 'keys_present', keys: delta.upsertKeys },
        { kind: 'keys_absent', keys: delta.deletedKeys },
      ],
      nextState: cursor,
    }]);
  },
};
