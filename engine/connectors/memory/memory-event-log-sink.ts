import type { Row } from '../../schema/index.ts';
import { extendRow } from '../../schema/index.ts';
import type { ChangeOp, KeyValue, PlanOperation, ReconcileCheck, StagedBatch, TargetSpec } from '../../plan/index.ts';
import { dataRowHash, keyOf, rowMatcher, targetLayout } from '../../plan/index.ts';
import type { ReconcileResult, Sink, SinkCapabilities, StagingReport, StepHook, TargetContent } from '../sink.ts';
import { reconcileResult } from '../sink.ts';

/** One keyed event of a log; `value` null is a tombstone. */
export interface LogEvent {
  /**
   * Deterministic id: load, batch, key and the event's rank among the batch's events for that key.
   * A rerun of the same load re-emits an event under the same id, so readers can dedupe on it.
   */
  readonly id: string;
  readonly key: KeyValue;
  readonly op: ChangeOp;
  readonly value: Row | null;
}

/** Events emitted between two fault-injection steps of a finalize. */
export const EVENTS_PER_STEP = 256;

/**
 * A Kafka-like event log held in memory. It is not transactional: events are visible as soon as
 * they are emitted, so a failed load may leave part of a batch behind, and a rerun converges because
 * readers take the last event per key (compacted view) or dedupe by event id (raw change log).
 */
export class MemoryEventLogSink implements Sink {
  readonly family = 'memory_event_log';
  readonly capabilities: SinkCapabilities = {
    kind: 'event_log', transactional: false, upsert: true, partitionExchange: false, tombstones: true,
  };
  private readonly events: LogEvent[];
  private readonly staging = new Map<string, StagedBatch>();
  private eventsBeforeFinalize = 0;

  constructor(initialEvents: readonly LogEvent[] = []) {
    this.events = [...initialEvents];
  }

  async prepare(): Promise<void> {
    this.eventsBeforeFinalize = this.events.length;
  }

  async currentHashes(): Promise<Map<KeyValue, string>> {
    const hashes = new Map<KeyValue, string>();
    for (const [key, value] of this.compacted()) hashes.set(key, dataRowHash(value));
    return hashes;
  }

  async currentKeys(): Promise<Set<KeyValue>> {
    return new Set(this.compacted().keys());
  }

  async stage(batch: StagedBatch): Promise<void> {
    this.staging.set(batch.name, batch);
  }

  async validateStaging(batch: StagedBatch): Promise<StagingReport> {
    const staged = this.staging.get(batch.name);
    return { stagedRows: staged ? staged.rows.length : 0, expectedRows: batch.rows.length };
  }

  async finalize(target: TargetSpec, batch: StagedBatch, operations: readonly PlanOperation[], onStep: StepHook): Promise<void> {
    this.eventsBeforeFinalize = this.events.length;
    const staged = this.staging.get(batch.name);
    if (!staged) throw new Error(`batch ${batch.name} was not staged`);
    const keyIndex = targetLayout(target).keyIndex;
    for (const operation of operations) {
      if (operation.kind !== 'emit_events') {
        throw new Error(`${operation.kind} is a relational operation; an event log only emits events`);
      }
      const rankOfKey = new Map<KeyValue, number>();
      staged.rows.forEach((row, index) => {
        if (index % EVENTS_PER_STEP === 0) onStep(index / EVENTS_PER_STEP);
        const op = staged.ops?.[index] ?? 'I';
        const tombstone = operation.mode === 'upsert' && op === 'D';
        const key = keyOf(row, keyIndex);
        const rank = rankOfKey.get(key) ?? 0;
        rankOfKey.set(key, rank + 1);
        this.events.push({ id: `${batch.name}/${key}/${rank}`, key, op, value: tombstone ? null : row });
      });
    }
  }

  async reconcile(target: TargetSpec, check: ReconcileCheck): Promise<ReconcileResult> {
    const view = this.compacted();
    switch (check.kind) {
      case 'row_count': {
        const matches = check.predicate ? rowMatcher(target.dataSchema, check.predicate) : () => true;
        return reconcileResult(check, check.equals, [...view.values()].filter(matches).length);
      }
      case 'current_rows':
        return reconcileResult(check, check.equals, view.size);
      case 'row_count_delta':
        return reconcileResult(check, check.equals, this.events.length - this.eventsBeforeFinalize);
      case 'keys_present':
      case 'keys_absent': {
        const found = check.keys.filter((key) => view.has(key)).length;
        return reconcileResult(check, check.kind === 'keys_present' ? check.keys.length : 0, found);
      }
    }
  }

  async cleanup(batch: StagedBatch): Promise<void> {
    this.staging.delete(batch.name);
  }

  /** The changelog shape reads the raw log (deduplicated by event id); other shapes the compacted view. */
  async read(target: TargetSpec): Promise<TargetContent> {
    const schema = targetLayout(target).schema;
    const tombstonedKeys = new Set<KeyValue>();
    for (const event of this.events) {
      if (event.value === null) tombstonedKeys.add(event.key);
      else tombstonedKeys.delete(event.key);
    }
    if (target.shape === 'changelog') {
      const seen = new Set<string>();
      const rows: Row[] = [];
      for (const event of this.events) {
        if (seen.has(event.id) || event.value === null) continue;
        seen.add(event.id);
        rows.push(extendRow(event.value, [event.op]));
      }
      return { schema, rows, eventCount: seen.size, tombstonedKeys };
    }
    const eventCount = new Set(this.events.map((event) => event.id)).size;
    return { schema, rows: [...this.compacted().values()], eventCount, tombstonedKeys };
  }

  /** Raw events, for tests that inspect the log itself. */
  log(): readonly LogEvent[] {
    return this.events;
  }

  private compacted(): Map<KeyValue, Row> {
    const view = new Map<KeyValue, Row>();
    for (const event of this.events) {
      if (event.value === null) view.delete(event.key);
      else {
        view.delete(event.key);
        view.set(event.key, event.value);
      }
    }
    return view;
  }
}
