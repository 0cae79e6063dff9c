import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

/** A message to produce: the part of a kafkajs `Message` the driver sets. */
export interface KafkaOutgoingMessage {
  readonly key: string;
  /** Null is a tombstone. */
  readonly value: string | Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
}

/** A message as kafkajs hands it to `eachBatch`. */
export interface KafkaFetchedMessageShape {
  readonly offset: string;
  readonly timestamp: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers?: Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;
}

/** The part of a kafkajs `EachBatchPayload` the driver reads. */
export interface KafkaBatchPayloadShape {
  readonly batch: {
    readonly partition: number;
    readonly messages: readonly KafkaFetchedMessageShape[];
  };
}

/** A kafkajs producer. */
export interface KafkaProducerShape {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  send(record: { topic: string; messages: KafkaOutgoingMessage[]; acks: number; compression?: number }): Promise<unknown>;
}

/** A kafkajs consumer: the driver only runs bounded reads with it, never commits through it. */
export interface KafkaConsumerShape {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  subscribe(subscription: { topics: string[]; fromBeginning: boolean }): Promise<void>;
  run(config: { autoCommit: boolean; eachBatch: (payload: KafkaBatchPayloadShape) => Promise<void> }): Promise<void>;
  seek(position: { topic: string; partition: number; offset: string }): void;
  pause(topics: { topic: string }[]): void;
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
  on(event: 'consumer.fetch_start', listener: () => void): unknown;
}

/** Partition offsets as kafkajs' admin reports them (`high` = the next offset to be written). */
export interface KafkaPartitionOffsetsShape {
  readonly partition: number;
  readonly offset: string;
  readonly high: string;
  readonly low: string;
}

/** A kafkajs admin client. */
export interface KafkaAdminShape {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  createTopics(options: {
    topics: { topic: string; numPartitions: number; configEntries: { name: string; value: string }[] }[];
    waitForLeaders: boolean;
  }): Promise<boolean>;
  deleteTopics(options: { topics: string[] }): Promise<void>;
  listTopics(): Promise<string[]>;
  fetchTopicOffsets(topic: string): Promise<KafkaPartitionOffsetsShape[]>;
  fetchOffsets(options: { groupId: string; topics: string[] }): Promise<{ topic: string; partitions: { partition: number; offset: string }[] }[]>;
  deleteGroups(groupIds: string[]): Promise<unknown>;
}

/** The kafkajs `Kafka` client (or anything with its factories). The driver never imports kafkajs itself. */
export interface KafkaShape {
  producer(config: { idempotent: boolean; maxInFlightRequests: number; allowAutoTopicCreation: boolean }): KafkaProducerShape;
  consumer(config: { groupId: string; maxBytesPerPartition: number; maxBytes: number; maxWaitTimeInMs: number; allowAutoTopicCreation: boolean }): KafkaConsumerShape;
  admin(): KafkaAdminShape;
}

/** A consumed message with its position; headers decoded as UTF-8 text. */
export interface ConsumedMessage {
  readonly partition: number;
  readonly offset: bigint;
  /** Append time of the broker or create time of the producer, epoch milliseconds. */
  readonly timestamp: number;
  readonly key: string | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
}

/** Next offset per partition: the positions of a bounded read and of a Kafka cursor. */
export type PartitionOffsets = ReadonlyMap<number, bigint>;

export interface KafkaDriverOptions {
  /** Abandon a bounded read that made no progress for this long; default 30 s. */
  readonly readIdleTimeoutMs?: number;
  /** kafkajs `CompressionTypes` value of produced batches; default none (0). */
  readonly compression?: number;
  /**
   * Most bytes of messages in one send, default 768 KiB: kafkajs writes a send's messages to a
   * partition as one record batch, which the broker rejects above `message.max.bytes` (1 MiB).
   */
  readonly maxSendBytes?: number;
  /** How long `deleteTopics` waits for deleted topics to leave the topic list; default 30 s. */
  readonly topicDeletionTimeoutMs?: number;
}

const ACKS_ALL = -1;
const READ_BYTES_PER_PARTITION = 16 * 1024 * 1024;
const DEFAULT_MAX_SEND_BYTES = 768 * 1024;
const TOPIC_DELETION_POLL_MS = 100;

/** Bytes of a message's key, value and headers (UTF-8), close to its size in a record batch. */
function messageBytes(message: KafkaOutgoingMessage): number {
  let bytes = Buffer.byteLength(message.key) + (message.value === null ? 0 : typeof message.value === 'string' ? Buffer.byteLength(message.value) : message.value.length);
  for (const [name, value] of Object.entries(message.headers)) bytes += name.length + Buffer.byteLength(value);
  return bytes;
}

function headerText(value: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  const single = Array.isArray(value) ? value.at(-1) : value;
  return single === undefined ? undefined : single.toString();
}

/**
 * A small Kafka driver over a kafkajs client handed in by the caller (the engine loads no driver
 * package). Produces with an idempotent producer and acks from all in-sync replicas; reads are
 * bounded: the caller fixes the end offsets first, then `consume` reads up to them and stops.
 * A send that fails drops the producer, so that the next send (a rerun) connects a fresh one.
 */
export class KafkaDriver {
  private admin?: Promise<KafkaAdminShape>;
  private producer?: Promise<KafkaProducerShape>;
  private readonly readIdleTimeoutMs: number;

  constructor(private readonly kafka: KafkaShape, private readonly options: KafkaDriverOptions = {}) {
    this.readIdleTimeoutMs = options.readIdleTimeoutMs ?? 30_000;
  }

  /** Creates a topic unless it exists (default one partition, broker-default configuration). */
  async createTopic(topic: string, options: { partitions?: number; config?: Readonly<Record<string, string>> } = {}): Promise<void> {
    const admin = await this.connectedAdmin();
    if ((await admin.listTopics()).includes(topic)) return;
    await admin.createTopics({
      topics: [{ topic, numPartitions: options.partitions ?? 1, configEntries: Object.entries(options.config ?? {}).map(([name, value]) => ({ name, value })) }],
      waitForLeaders: true,
    });
  }

  async topics(): Promise<string[]> {
    return (await this.connectedAdmin()).listTopics();
  }

  /**
   * Deletes those of `topics` that exist and waits until the broker no longer lists them: deletion
   * completes asynchronously, after the delete request returned.
   */
  async deleteTopics(topics: readonly string[]): Promise<void> {
    const admin = await this.connectedAdmin();
    const listed = async () => {
      const existing = new Set(await admin.listTopics());
      return topics.filter((topic) => existing.has(topic));
    };
    let present = await listed();
    if (present.length === 0) return;
    await admin.deleteTopics({ topics: present });
    const timeoutMs = this.options.topicDeletionTimeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    while ((present = await listed()).length > 0) {
      if (Date.now() >= deadline) throw new Error(`kafka topics ${present.join(', ')} are still listed ${timeoutMs} ms after their deletion`);
      await sleep(TOPIC_DELETION_POLL_MS);
    }
  }

  /** The next offset to be written, per partition: fixing these first bounds a read. */
  async endOffsets(topic: string): Promise<Map<number, bigint>> {
    const offsets = await (await this.connectedAdmin()).fetchTopicOffsets(topic);
    return new Map(offsets.map((entry) => [entry.partition, BigInt(entry.high)]));
  }

  /**
   * Produces messages in order, in sends of at most `maxSendBytes`, each acknowledged by every
   * in-sync replica before the next goes out.
   */
  async produce(topic: string, messages: readonly KafkaOutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const producer = await this.connectedProducer();
    const limit = this.options.maxSendBytes ?? DEFAULT_MAX_SEND_BYTES;
    try {
      let send: KafkaOutgoingMessage[] = [];
      let bytes = 0;
      for (const message of messages) {
        const size = messageBytes(message);
        if (send.length > 0 && bytes + size > limit) {
          await producer.send({ topic, messages: send, acks: ACKS_ALL, compression: this.options.compression });
          send = [];
          bytes = 0;
        }
        send.push(message);
        bytes += size;
      }
      await producer.send({ topic, messages: send, acks: ACKS_ALL, compression: this.options.compression });
    } catch (error) {
      this.producer = undefined;
      await producer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  /**
   * Reads `topic` from `from` (per partition; absent partitions from the start) up to `end`
   * (exclusive, fixed by the caller before reading), in offset order per partition, partitions in
   * ascending order. Uses a throw-away consumer group that never commits.
   */
  async consume(topic: string, from: PartitionOffsets, end: PartitionOffsets): Promise<ConsumedMessage[]> {
    const starts = new Map<number, bigint>();
    for (const [partition, stop] of end) {
      const start = from.get(partition) ?? 0n;
      if (start < stop) starts.set(partition, start);
    }
    if (starts.size === 0) return [];
    const groupId = `dpone-read-${randomUUID()}`;
    const consumer = this.kafka.consumer({
      groupId, maxBytesPerPartition: READ_BYTES_PER_PARTITION, maxBytes: 4 * READ_BYTES_PER_PARTITION, maxWaitTimeInMs: 100, allowAutoTopicCreation: false,
    });
    const byPartition = new Map<number, ConsumedMessage[]>([...starts.keys()].map((partition) => [partition, []]));
    const pending = new Set(starts.keys());
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        let idle: NodeJS.Timeout | undefined;
        const armIdleTimer = () => {
          clearTimeout(idle);
          idle = setTimeout(() => reject(new Error(`kafka read of ${topic} made no progress for ${this.readIdleTimeoutMs} ms (still waiting on partitions ${[...pending].join(', ')})`)), this.readIdleTimeoutMs);
        };
        armIdleTimer();
        const finish = () => { clearTimeout(idle); resolve(); };
        consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const stop = end.get(batch.partition);
            const start = starts.get(batch.partition);
            const into = byPartition.get(batch.partition);
            if (stop === undefined || start === undefined || into === undefined || !pending.has(batch.partition)) return;
            armIdleTimer();
            for (const message of batch.messages) {
              const offset = BigInt(message.offset);
              if (offset < start) continue;
              if (offset >= stop) break;
              const headers: Record<string, string> = {};
              for (const [name, value] of Object.entries(message.headers ?? {})) {
                const text = headerText(value);
                if (text !== undefined) headers[name] = text;
              }
              into.push({ partition: batch.partition, offset, timestamp: Number(message.timestamp), key: message.key?.toString() ?? null, value: message.value, headers });
            }
            const last = batch.messages.at(-1);
            if (last !== undefined && BigInt(last.offset) + 1n >= stop) {
              pending.delete(batch.partition);
              if (pending.size === 0) finish();
            }
          },
        }).catch((error: unknown) => { clearTimeout(idle); reject(error instanceof Error ? error : new Error(String(error))); });
        // Seeks apply once the partitions are assigned: each partition starts exactly at its `from`.
        for (const [partition, start] of starts) consumer.seek({ topic, partition, offset: start.toString() });
      });
    } finally {
      await consumer.disconnect();
      await (await this.connectedAdmin()).deleteGroups([groupId]).catch(() => undefined);
    }
    return [...byPartition.keys()].sort((a, b) => a - b).flatMap((partition) => byPartition.get(partition) ?? []);
  }

  /**
   * Commits a consumer group's offsets: joins the group with a paused consumer, commits and leaves
   * (kafkajs' `admin.setOffsets` does the same but waits out a whole fetch of its paused consumer).
   */
  async commitGroupOffsets(groupId: string, topic: string, offsets: PartitionOffsets): Promise<void> {
    if (offsets.size === 0) return;
    const consumer = this.kafka.consumer({ groupId, maxBytesPerPartition: 1024, maxBytes: 1024, maxWaitTimeInMs: 100, allowAutoTopicCreation: false });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: false });
      await new Promise<void>((resolve, reject) => {
        // Commits are dropped until the consumer runs, which is after the join: wait for its first fetch.
        consumer.on('consumer.fetch_start', () => resolve());
        consumer.run({ autoCommit: false, eachBatch: async () => undefined }).catch(reject);
        consumer.pause([{ topic }]);
      });
      await consumer.commitOffsets([...offsets].map(([partition, offset]) => ({ topic, partition, offset: offset.toString() })));
    } finally {
      await consumer.disconnect();
    }
  }

  /** A consumer group's committed offsets on `topic` (partitions without a commit are left out). */
  async groupOffsets(groupId: string, topic: string): Promise<Map<number, bigint>> {
    const [topicOffsets] = await (await this.connectedAdmin()).fetchOffsets({ groupId, topics: [topic] });
    const offsets = new Map<number, bigint>();
    for (const { partition, offset } of topicOffsets?.partitions ?? []) if (offset !== '-1') offsets.set(partition, BigInt(offset));
    return offsets;
  }

  async deleteGroup(groupId: string): Promise<void> {
    await (await this.connectedAdmin()).deleteGroups([groupId]).catch(() => undefined);
  }

  /** Disconnects the producer and the admin client. */
  async close(): Promise<void> {
    const [producer, admin] = [this.producer, this.admin];
    this.producer = undefined;
    this.admin = undefined;
    await Promise.allSettled([producer?.then((client) => client.disconnect()), admin?.then((client) => client.disconnect())]);
  }

  private connectedAdmin(): Promise<KafkaAdminShape> {
    this.admin ??= connected(this.kafka.admin(), () => { this.admin = undefined; });
    return this.admin;
  }

  private connectedProducer(): Promise<KafkaProducerShape> {
    // Idempotent: a retried send after a lost acknowledgement is not written twice.
    this.producer ??= connected(this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false }), () => { this.producer = undefined; });
    return this.producer;
  }
}

/** Connects a client; a failed connect forgets it (`onFailure`) so the next call retries. */
async function connected<T extends { connect(): Promise<void> }>(client: T, onFailure: () => void): Promise<T> {
  try {
    await client.connect();
    return client;
  } catch (error) {
    onFailure();
    throw error;
  }
}
