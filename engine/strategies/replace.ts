import { columnIndex } from '../schema/index.ts';
import { keyOf, rowMatcher } from '../plan/index.ts';
import type { LoadStrategy } from './strategy.ts';
import { buildPlan, requireSinkKind } from './strategy.ts';
import { deletesFromKeyReconciliation } from './delta.ts';

/**
 * replace: a bounded predicate window is reloaded from the source through staging; target rows in
 * the window that the source no longer has disappear with the window. Event logs re-emit the window
 * and tombstone keys that left it (the window must then be on the key column).
 */
export const replace: LoadStrategy = {
  name: 'replace',
  sinkKinds: ['relational', 'event_log'],
  targetShape: () => 'plain',
  async plan(context) {
    const kind = requireSinkKind(context, this);
    const window = context.options.window;
    if (!window) throw new Error('replace needs a window (options.window: column, lo, hi)');
    const snapshot = await context.source.readSnapshot(window);
    const countInWindow = { kind: 'row_count', equals: snapshot.rows.length, predicate: window } as const;
    if (kind === 'relational') {
      return buildPlan(context, this.name, snapshot.rows.length, [{
        id: 'window',
        rows: snapshot.rows,
        operations: [{ kind: 'replace_window', predicate: window }],
        reconcile: [countInWindow],
        nextState: snapshot.cursor,
      }]);
    }
    const schema = context.target.dataSchema;
    if (window.column !== schema.key) {
      throw new Error(`replace on an event log needs a window on the key column ${schema.key}, not ${window.column}`);
    }
    const keyIndex = columnIndex(schema, schema.key);
    const inWindow = rowMatcher(schema, window);
    const targetKeys = [...await context.sink.currentKeys(context.target)].filter((key) => {
      const probe = schema.columns.map((column) => (column.name === schema.key ? key : null));
      return inWindow(probe);
    });
    const removed = deletesFromKeyReconciliation(schema, snapshot.rows.map((row) => keyOf(row, keyIndex)), new Set(targetKeys));
    return buildPlan(context, this.name, snapshot.rows.length, [{
      id: 'window',
      rows: [...snapshot.rows, ...removed.rows],
      ops: [...snapshot.rows.map(() => 'U' as const), ...removed.ops],
      operations: [{ kind: 'emit_events', mode: 'upsert' }],
      reconcile: [countInWindow, { kind: 'keys_absent', keys: removed.deletedKeys }],
      nextState: snapshot.cursor,
    }]);
  },
};
