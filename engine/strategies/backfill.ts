import type { BatchSpec, LoadStrategy } from './strategy.ts';
import { buildPlan, requireSinkKind } from './strategy.ts';
import { partitionCount } from './partition-replace.ts';

const DAY_MS = 86_400_000;

/** Every day from `from` to `to` inclusive, as `YYYY-MM-DD`. */
export function daysBetween(from: string, to: string): string[] {
  const start = Date.parse(`${from}T00:00:00Z`);
  const end = Date.parse(`${to}T00:00:00Z`);
  if (Number.isNaN(start) || Number.isNaN(end) || end < start) throw new Error(`bad backfill range ${from}..${to}`);
  const days: string[] = [];
  for (let t = start; t <= end; t += DAY_MS) days.push(new Date(t).toISOString().slice(0, 10));
  return days;
}

/**
 * backfill: a date range is cut into deterministic chunks of partitions; each chunk is a staged
 * partition replace with its own reconcile and state commit, so a failed run resumes at the first
 * chunk not yet committed.
 */
export const backfill: LoadStrategy = {
  name: 'backfill',
  sinkKinds: ['relational'],
  targetShape: () => 'plain',
  async plan(context) {
    requireSinkKind(context, this);
    const range = context.options.backfill;
    if (!range) throw new Error('backfill needs a range (options.backfill: column, from, to, chunkSize)');
    if (!Number.isInteger(range.chunkSize) || range.chunkSize < 1) throw new Error(`bad backfill chunkSize ${range.chunkSize}`);
    const days = daysBetween(range.from, range.to);
    const done = new Set(context.state.completedChunks ?? []);
    const batches: BatchSpec[] = [];
    const completed = [...done];
    let extracted = 0;
    for (let start = 0; start < days.length; start += range.chunkSize) {
      const partitions = days.slice(start, start + range.chunkSize);
      const id = `chunk_${partitions[0]?.replaceAll('-', '')}`;
      if (done.has(id)) continue;
      const slice = await context.source.readSnapshot({ kind: 'in', column: range.column, values: partitions });
      extracted += slice.rows.length;
      completed.push(id);
      batches.push({
        id,
        rows: slice.rows,
        operations: [{ kind: 'replace_partitions', column: range.column, partitions }],
        reconcile: [partitionCount(range.column, partitions, slice.rows.length)],
        nextState: { ...context.state, completedChunks: [...completed] },
      });
    }
    return buildPlan(context, this.name, extracted, batches);
  },
};
