import type { LoadStrategy } from './strategy.ts';
import { buildPlan, requireSinkKind } from './strategy.ts';

/**
 * incremental_append: every change since the watermark is appended with its op; existing rows stay,
 * and deletes are kept as rows/events rather than applied.
 */
export const incrementalAppend: LoadStrategy = {
  name: 'incremental_append',
  sinkKinds: ['relational', 'event_log'],
  targetShape: () => 'changelog',
  async plan(context) {
    const kind = requireSinkKind(context, this);
    const { changes, cursor } = await context.source.readChanges(context.state);
    return buildPlan(context, this.name, changes.length, [{
      id: 'delta',
      rows: changes.map((change) => change.row),
      ops: changes.map((change) => change.op),
      operations: [kind === 'relational' ? { kind: 'append' } : { kind: 'emit_events', mode: 'changelog' }],
      reconcile: [{ kind: 'row_count_delta', equals: changes.length }],
      nextState: cursor,
    }]);
  },
};
