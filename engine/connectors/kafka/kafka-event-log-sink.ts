import type { Row } from '../../schema/index.ts';
import type { ChangeOp, KeyValue, PlanOperation, ReconcileCheck, StagedBatch, TargetSpec } from '../../plan/index.ts';
import { keyOf, keyOnlyRow, targetLayout } from '../../plan/index.ts';
import type { LogEvent } from '../memory/index.ts';
import { EVENTS_PER_STEP, MemoryEventLogSink } from '../memory/index.ts';
import type { ReconcileResult, Sink, SinkCapabilities, StagingReport, StepHook, TargetContent } from '../sink.ts';
import { reconcileResult } from '../sink.ts';
import type { KafkaRowCodec, KafkaRowCodecFactory } from './kafka-codec.ts';
import { jsonRowCodecs, KAFKA_HEADERS, keyFromMessage, messageKey } from './kafka-codec.ts';
import type { ConsumedMessage, KafkaDriver, KafkaOutgoingMessage } from './kafka-driver.ts';

export interface KafkaEventLogSinkOptions {
  /** Prefix of every topic name: target `orders` is topic `<prefix>orders`; default none. */
  readonly topicPrefix?: string;
  /** Partitions of a topic the sink creates; default 1. */
  readonly partitions?: number;
  /** Topic configuration of a topic the sink creates (e.g. `cleanup.policy=compact`); default the broker's. */
  readonly topicConfig?: Readonly<Record<string, string>>;
  /** Row codec of a target's topic; default JSON (`jsonRowCodecs`), Avro with a Schema Registry (`schemaRegistryRowCodecs`). */
  readonly codec?: KafkaRowCodecFactory;
}

const OPS: ReadonlySet<string> = new Set<ChangeOp>(['I', 'U', 'D']);

/** The messages of a topic read so far, and where the next read continues. */
interface LogCache {
  readonly topic: string;
  readonly messages: ConsumedMessage[];
  next: Map<number, bigint>;
}

/**
 * A Kafka topic as an event log, with exactly the semantics of `MemoryEventLogSink`: `emit_events`
 * produces one keyed message per staged row, the event id `<batch>/<key>/<rank>` and the op in
 * headers, a null value (tombstone) for an upsert's delete. It is not transactional: produced
 * events stay even when the load fails later, and a rerun re-emits them under the same ids, which
 * readers dedupe (raw change log) or supersede (compacted view).
 *
 * Staging is the batch held in memory. Reads are bounded (end offsets fixed first); the compacted
 * view and reconciliation are those of `MemoryEventLogSink` over the events read back from Kafka.
 */
export class KafkaEventLogSink implements Sink {
  readonly family = 'kafka';
  readonly capabilities: SinkCapabilities = {
    kind: 'event_log', transactional: false, upsert: true, partitionExchange: false, tombstones: true,
  };
  private readonly staging = new Map<string, StagedBatch>();
  /** Per topic. */
  private readonly codecs = new Map<string, KafkaRowCodec>();
  private cache?: LogCache;
  private messagesBeforeFinalize = 0n;

  constructor(readonly driver: KafkaDriver, private readonly options: KafkaEventLogSinkOptions = {}) {}

  /** The topic of a target. */
  topic(target: TargetSpec): string {
    return `${this.options.topicPrefix ?? ''}${target.name}`;
  }

  async prepare(target: TargetSpec): Promise<void> {
    await this.driver.createTopic(this.topic(target), { partitions: this.options.partitions, config: this.options.topicConfig });
    this.messagesBeforeFinalize = await this.messageCount(target);
  }

  async currentHashes(target: TargetSpec): Promise<Map<KeyValue, string>> {
    return (await this.view(target, 'rows')).currentHashes();
  }

  async currentKeys(target: TargetSpec): Promise<Set<KeyValue>> {
    return (await this.view(target, 'keys')).currentKeys();
  }

  async stage(batch: StagedBatch): Promise<void> {
    this.staging.set(batch.name, batch);
  }

  async validateStaging(batch: StagedBatch): Promise<StagingReport> {
    const staged = this.staging.get(batch.name);
    return { stagedRows: staged ? staged.rows.length : 0, expectedRows: batch.rows.length };
  }

  async finalize(target: TargetSpec, batch: StagedBatch, operations: readonly PlanOperation[], onStep: StepHook): Promise<void> {
    this.messagesBeforeFinalize = await this.messageCount(target);
    const staged = this.staging.get(batch.name);
    if (!staged) throw new Error(`batch ${batch.name} was not staged`);
    const keyIndex = targetLayout(target).keyIndex;
    const topic = this.topic(target);
    await this.codec(target).prepareEncode?.();
    for (const operation of operations) {
      if (operation.kind !== 'emit_events') {
        throw new Error(`${operation.kind} is a relational operation; an event log only emits events`);
      }
      const rankOfKey = new Map<KeyValue, number>();
      // Step k encodes its events while step k-1's send is in flight, then waits for that send's
      // acknowledgement before the step hook: at step k, exactly the events of steps < k are in the log.
      let inFlight: Promise<void> = Promise.resolve();
      for (let start = 0, step = 0; start < staged.rows.length; start += EVENTS_PER_STEP, step++) {
        const messages: KafkaOutgoingMessage[] = [];
        for (let index = start; index < Math.min(start + EVENTS_PER_STEP, staged.rows.length); index++) {
          const row = staged.rows[index] as Row;
          const op = staged.ops?.[index] ?? 'I';
          const key = keyOf(row, keyIndex);
          const rank = rankOfKey.get(key) ?? 0;
          rankOfKey.set(key, rank + 1);
          messages.push(this.message(target, { id: `${batch.name}/${key}/${rank}`, key, op, value: operation.mode === 'upsert' && op === 'D' ? null : row }));
        }
        await inFlight;
        onStep(step);
        inFlight = this.driver.produce(topic, messages);
      }
      await inFlight;
    }
  }

  async reconcile(target: TargetSpec, check: ReconcileCheck): Promise<ReconcileResult> {
    if (check.kind === 'row_count_delta') {
      return reconcileResult(check, check.equals, Number((await this.messageCount(target)) - this.messagesBeforeFinalize));
    }
    const needsRows = check.kind === 'row_count' && check.predicate !== undefined;
    return (await this.view(target, needsRows ? 'rows' : 'keys')).reconcile(target, check);
  }

  async cleanup(batch: StagedBatch): Promise<void> {
    this.staging.delete(batch.name);
  }

  /** Reads the whole topic afresh (up to end offsets fixed first): compacted view, or the raw log for the changelog shape. */
  async read(target: TargetSpec): Promise<TargetContent> {
    const topic = this.topic(target);
    const end = await this.driver.endOffsets(topic);
    const messages = await this.driver.consume(topic, new Map(), end);
    await this.codec(target).prepareDecode?.(messages.map((message) => message.value));
    return new MemoryEventLogSink(messages.map((message) => this.event(target, message))).read(target);
  }

  /** Produces events as they are (seeding a log with the events a previous load left). */
  async append(target: TargetSpec, events: readonly LogEvent[]): Promise<void> {
    await this.codec(target).prepareEncode?.();
    await this.driver.produce(this.topic(target), events.map((event) => this.message(target, event)));
  }

  async close(): Promise<void> {
    await this.driver.close();
  }

  /** Messages in the topic: the sum over partitions of the end offsets. */
  private async messageCount(target: TargetSpec): Promise<bigint> {
    let count = 0n;
    for (const offset of (await this.driver.endOffsets(this.topic(target))).values()) count += offset;
    return count;
  }

  /**
   * The log as an in-memory event log, after reading what was produced since the last call. With
   * `keys`, values are not decoded (each live event holds a key-only row): enough for key presence
   * and counts, and what keeps reconciling a large batch cheap.
   */
  private async view(target: TargetSpec, content: 'rows' | 'keys'): Promise<MemoryEventLogSink> {
    const topic = this.topic(target);
    if (this.cache?.topic !== topic) this.cache = { topic, messages: [], next: new Map() };
    const cache = this.cache;
    const end = await this.driver.endOffsets(topic);
    cache.messages.push(...await this.driver.consume(topic, cache.next, end));
    cache.next = end;
    if (content === 'rows') await this.codec(target).prepareDecode?.(cache.messages.map((message) => message.value));
    return new MemoryEventLogSink(cache.messages.map((message) => this.event(target, message, content === 'rows')));
  }

  private codec(target: TargetSpec): KafkaRowCodec {
    const topic = this.topic(target);
    let codec = this.codecs.get(topic);
    if (!codec) this.codecs.set(topic, (codec = (this.options.codec ?? jsonRowCodecs)(target.dataSchema, topic)));
    return codec;
  }

  private message(target: TargetSpec, event: LogEvent): KafkaOutgoingMessage {
    return {
      key: messageKey(event.key),
      value: event.value === null ? null : this.codec(target).encode(event.value),
      headers: { [KAFKA_HEADERS.eventId]: event.id, [KAFKA_HEADERS.op]: event.op },
    };
  }

  private event(target: TargetSpec, message: ConsumedMessage, decode = true): LogEvent {
    if (message.key === null) throw new Error(`kafka event at ${message.partition}:${message.offset} of ${this.topic(target)} has no key`);
    const op = message.headers[KAFKA_HEADERS.op] ?? (message.value === null ? 'D' : 'U');
    if (!OPS.has(op)) throw new Error(`kafka event at ${message.partition}:${message.offset} has op ${op}, expected I, U or D`);
    const key = keyFromMessage(target.dataSchema, message.key);
    const value = message.value === null ? null : decode ? this.codec(target).decode(message.value) : keyOnlyRow(target.dataSchema, key);
    // Events written by others carry no id: their position identifies them.
    return { id: message.headers[KAFKA_HEADERS.eventId] ?? `${message.partition}:${message.offset}`, key, op: op as ChangeOp, value };
  }
}
