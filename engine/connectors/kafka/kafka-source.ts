import type { Row, TableSchema } from '../../schema/index.ts';
import { columnIndex } from '../../schema/index.ts';
import type { ChangeOp, ChangeRecord, KeyValue, RowPredicate } from '../../plan/index.ts';
import { keyOnlyRow, rowMatcher } from '../../plan/index.ts';
import type { LoadState } from '../../state/index.ts';
import type { ChangeRead, SnapshotRead, Source, SourceCapabilities, XminRead } from '../source.ts';
import type { KafkaRowCodec } from './kafka-codec.ts';
import { JsonRowCodec, KAFKA_HEADERS, keyFromMessage, messageKey } from './kafka-codec.ts';
import type { ConsumedMessage, KafkaDriver, KafkaOutgoingMessage, PartitionOffsets } from './kafka-driver.ts';

export interface KafkaSourceOptions {
  readonly topic: string;
  readonly schema: TableSchema;
  /** Consumer group whose offsets `acknowledge` commits; default `dpone-<topic>`. */
  readonly groupId?: string;
  /** Column holding the change time, used when an event carries no `dpone.at` header; default `updated_at`. */
  readonly watermarkColumn?: string;
  /** The instant snapshots stand for (UTC micros); default the latest change time read. */
  readonly asOf?: number;
  readonly family?: string;
  /** Codec of the topic's values; default JSON. Reads decode Schema Registry (Avro) values only with an `AvroRowCodec`. */
  readonly codec?: KafkaRowCodec;
}

const OPS: ReadonlySet<string> = new Set<ChangeOp>(['I', 'U', 'D']);
const CAPABILITIES: SourceCapabilities = { incremental: true, xmin: false, cdc: false };

/** A Kafka cursor (`{ '<partition>': '<next offset>' }`) as partition offsets. */
export function offsetsOf(state: LoadState): Map<number, bigint> {
  return new Map(Object.entries(state.offsets ?? {}).map(([partition, offset]) => [Number(partition), BigInt(offset)]));
}

/** Partition offsets as the cursor a load commits. */
export function kafkaCursor(offsets: PartitionOffsets): LoadState {
  return { offsets: Object.fromEntries([...offsets].map(([partition, offset]) => [String(partition), offset.toString()])) };
}

/**
 * A Kafka topic of change events as a source.
 *
 * Contract of the topic (what `seedKafkaSource` writes): one message per change, keyed by the
 * business key, the row as value (the after image of an insert or update, the before image of a
 * delete), the op (`I`/`U`/`D`) in header `dpone.op` and the change time in `dpone.at`. A null
 * value is a delete too (a tombstone), and an event without `dpone.at` takes its change time from
 * the watermark column or else the message timestamp.
 *
 * Reads are bounded: each one fixes the end offsets before consuming. A snapshot is the compacted
 * view (last event per key, deletes removed) of the whole topic; changes are the events between the
 * state's offsets and the end offsets, in offset order, every event kept (no collapsing: the
 * strategies collapse). The cursor is the end offsets; `acknowledge`, called by the lifecycle after
 * the sink committed, commits them as the consumer group's offsets.
 */
export class KafkaSource implements Source {
  readonly family: string;
  readonly capabilities = CAPABILITIES;
  readonly schema: TableSchema;
  readonly topic: string;
  readonly groupId: string;
  private readonly codec: KafkaRowCodec;
  private readonly keyIndex: number;
  private readonly watermarkIndex: number;

  constructor(private readonly driver: KafkaDriver, private readonly options: KafkaSourceOptions) {
    this.family = options.family ?? 'kafka';
    this.schema = options.schema;
    this.topic = options.topic;
    this.groupId = options.groupId ?? `dpone-${options.topic}`;
    this.codec = options.codec ?? new JsonRowCodec(options.schema);
    this.keyIndex = columnIndex(options.schema, options.schema.key);
    this.watermarkIndex = columnIndex(options.schema, options.watermarkColumn ?? 'updated_at');
  }

  /** The topic's end offsets as a cursor: the state of a load that read everything so far. */
  async headCursor(): Promise<LoadState> {
    return kafkaCursor(await this.driver.endOffsets(this.topic));
  }

  async readSnapshot(filter?: RowPredicate): Promise<SnapshotRead> {
    const end = await this.driver.endOffsets(this.topic);
    const changes = await this.changesBetween(new Map(), end);
    // Same order as a table that applies the changes: an update keeps its key's place.
    const table = new Map<KeyValue, Row>();
    let latest = 0;
    for (const change of changes) {
      if (change.op === 'D') table.delete(change.key);
      else table.set(change.key, change.row);
      latest = Math.max(latest, change.at);
    }
    const matches = filter ? rowMatcher(this.schema, filter) : () => true;
    return { rows: [...table.values()].filter(matches), asOf: this.options.asOf ?? latest, cursor: kafkaCursor(end) };
  }

  async readChanges(state: LoadState): Promise<ChangeRead> {
    const end = await this.driver.endOffsets(this.topic);
    const from = offsetsOf(state);
    return { changes: await this.changesBetween(from, end), cursor: kafkaCursor(new Map([...end].map(([partition, offset]) => [partition, max(offset, from.get(partition) ?? 0n)]))) };
  }

  async readXmin(): Promise<XminRead> {
    throw new Error(`source ${this.family} does not support xmin extraction: a Kafka topic has no transaction ids (use an incremental strategy)`);
  }

  async readCdc(): Promise<ChangeRead> {
    throw new Error(`source ${this.family} does not support cdc extraction: the topic already is the change stream (use an incremental strategy)`);
  }

  /** Commits the cursor's offsets as the consumer group's (after the sink commit). */
  async acknowledge(state: LoadState): Promise<void> {
    await this.driver.commitGroupOffsets(this.groupId, this.topic, offsetsOf(state));
  }

  /** The consumer group's committed offsets as a cursor (empty before the first acknowledge). */
  async committedCursor(): Promise<LoadState> {
    return kafkaCursor(await this.driver.groupOffsets(this.groupId, this.topic));
  }

  async close(): Promise<void> {
    await this.driver.close();
  }

  private async changesBetween(from: PartitionOffsets, end: PartitionOffsets): Promise<ChangeRecord[]> {
    const messages = await this.driver.consume(this.topic, from, end);
    await this.codec.prepareDecode?.(messages.map((message) => message.value));
    return messages.map((message) => this.change(message));
  }

  private change(message: ConsumedMessage): ChangeRecord {
    const position = `${message.partition}:${message.offset}`;
    if (message.key === null) throw new Error(`kafka source ${this.topic}: event at ${position} has no key`);
    const key = keyFromMessage(this.schema, message.key);
    const row = message.value === null ? keyOnlyRow(this.schema, key) : this.codec.decode(message.value);
    const op = message.headers[KAFKA_HEADERS.op] ?? (message.value === null ? 'D' : 'U');
    if (!OPS.has(op)) throw new Error(`kafka source ${this.topic}: event at ${position} has op ${op}, expected I, U or D`);
    const atHeader = message.headers[KAFKA_HEADERS.at];
    const watermark = row[this.watermarkIndex];
    const at = atHeader !== undefined ? Number(atHeader) : typeof watermark === 'number' ? watermark : message.timestamp * 1000;
    return { op: op as ChangeOp, key, row, at, position };
  }
}

function max(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

/** The fixture data a seeding needs (a `SourceFixture` has it). */
export interface KafkaSeedData {
  readonly schema: TableSchema;
  readonly before: readonly Row[];
  readonly changes: readonly ChangeRecord[];
}

const SEED_EVENTS_PER_SEND = 500;

/**
 * Builds a source topic from a fixture: creates `topic` (one partition, so offset order is commit
 * order), produces one insert event per base row (change time = its watermark column), runs
 * `afterBase` (e.g. to take the base cursor), then produces the delta in commit order.
 */
export async function seedKafkaSource(
  driver: KafkaDriver, topic: string, fixture: KafkaSeedData,
  options: Omit<KafkaSourceOptions, 'topic' | 'schema'> & { afterBase?: (source: KafkaSource) => Promise<void> } = {},
): Promise<KafkaSource> {
  const source = new KafkaSource(driver, { ...options, topic, schema: fixture.schema });
  const codec: KafkaRowCodec = options.codec ?? new JsonRowCodec(fixture.schema);
  await codec.prepareEncode?.();
  const keyIndex = columnIndex(fixture.schema, fixture.schema.key);
  const watermarkIndex = columnIndex(fixture.schema, options.watermarkColumn ?? 'updated_at');
  const message = (op: ChangeOp, key: KeyValue, row: Row, at: number): KafkaOutgoingMessage => ({
    key: messageKey(key), value: codec.encode(row), headers: { [KAFKA_HEADERS.op]: op, [KAFKA_HEADERS.at]: String(at) },
  });
  const produce = async (messages: readonly KafkaOutgoingMessage[]) => {
    for (let start = 0; start < messages.length; start += SEED_EVENTS_PER_SEND) await driver.produce(topic, messages.slice(start, start + SEED_EVENTS_PER_SEND));
  };
  await driver.createTopic(topic, { partitions: 1 });
  await produce(fixture.before.map((row) => message('I', row[keyIndex] as KeyValue, row, Number(row[watermarkIndex]))));
  await options.afterBase?.(source);
  await produce(fixture.changes.map((change) => message(change.op, change.key, change.row, change.at)));
  return source;
}
