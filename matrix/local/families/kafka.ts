import type { KafkaDriver, KafkaRowCodecFactory } from '../../../engine/connectors/kafka/index.ts';
import { KafkaEventLogSink, KafkaStateStore, seedKafkaSource } from '../../../engine/connectors/kafka/index.ts';
import type { LoadState } from '../../../engine/state/index.ts';
import { targetBeforeEvents } from '../../../fixtures/scenario.ts';
import type { KafkaConnection } from '../../../fixtures/services/kafka-providers.ts';
import { openKafkaDriver, openKafkaRowCodecs } from '../../../fixtures/services/kafka-providers.ts';
import type { ServiceHandle } from '../../../fixtures/services/provider.ts';
import type { SeededSink, SeededSource, SinkHarness, SourceHarness } from '../family-harness.ts';

/** Topic names of a case inside namespace `ns`. */
export const kafkaTopics = {
  source: (ns: string) => `${ns}.source`,
  targetPrefix: (ns: string) => `${ns}.target.`,
  state: (ns: string) => `${ns}.__dpone__loads`,
  group: (ns: string) => `${ns}.dpone`,
};

/**
 * Drivers of one harness: each case gets its own (its own kafkajs clients), released with the case;
 * `close` releases whatever a failed case left open. The value codecs are the connection's (Avro
 * when it names a Schema Registry, JSON otherwise), shared by the cases.
 */
class CaseDrivers {
  private readonly open = new Set<KafkaDriver>();
  private rowCodecs?: Promise<KafkaRowCodecFactory>;

  constructor(private readonly connection: KafkaConnection) {}

  codecs(): Promise<KafkaRowCodecFactory> {
    this.rowCodecs ??= openKafkaRowCodecs(this.connection);
    return this.rowCodecs;
  }

  async driver(): Promise<KafkaDriver> {
    const driver = await openKafkaDriver(this.connection);
    this.open.add(driver);
    return driver;
  }

  /** Deletes the case's topics (and consumer group), then disconnects its driver; idempotent. */
  releaser(driver: KafkaDriver, topics: () => readonly string[], group?: string): () => Promise<void> {
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      try {
        await driver.deleteTopics(topics());
        if (group !== undefined) await driver.deleteGroup(group);
      } finally {
        this.open.delete(driver);
        await driver.close();
      }
    };
  }

  async close(): Promise<void> {
    const drivers = [...this.open];
    this.open.clear();
    await Promise.allSettled(drivers.map((driver) => driver.close()));
  }
}

/** Kafka as a source: a topic of change events per case (`<ns>.source`), acknowledged by group `<ns>.dpone`. */
export function kafkaSourceHarness(handle: ServiceHandle<KafkaConnection>): SourceHarness {
  const drivers = new CaseDrivers(handle.connection);
  return {
    family: 'kafka',
    services: ['kafka'],
    async seedSource(fixture, ns): Promise<SeededSource> {
      const driver = await drivers.driver();
      const topic = kafkaTopics.source(ns);
      const release = drivers.releaser(driver, () => [topic], kafkaTopics.group(ns));
      try {
        let baseCursor: LoadState = {};
        const source = await seedKafkaSource(driver, topic, fixture, {
          asOf: fixture.snapshotAt, groupId: kafkaTopics.group(ns), codec: (await drivers.codecs())(fixture.schema, topic),
          afterBase: async (seeding) => { baseCursor = await seeding.headCursor(); },
        });
        return { source, baseCursor, release };
      } catch (error) {
        await release().catch(() => undefined);
        throw error;
      }
    },
    close: () => drivers.close(),
  };
}

/**
 * Kafka as a sink: the target is topic `<ns>.target.<name>` seeded with one insert event per base
 * row, and the pipeline's state lives in the compacted topic `<ns>.__dpone__loads`.
 */
export function kafkaSinkHarness(handle: ServiceHandle<KafkaConnection>): SinkHarness {
  const drivers = new CaseDrivers(handle.connection);
  return {
    family: 'kafka',
    services: ['kafka'],
    async seedSink(fixture, target, ns, pipeline, baseCursor): Promise<SeededSink> {
      const codec = await drivers.codecs();
      const driver = await drivers.driver();
      const sink = new KafkaEventLogSink(driver, { topicPrefix: kafkaTopics.targetPrefix(ns), codec });
      const stateStore = new KafkaStateStore(driver, kafkaTopics.state(ns));
      const release = drivers.releaser(driver, () => [sink.topic(target), stateStore.topic]);
      try {
        await sink.prepare(target);
        await sink.append(target, targetBeforeEvents(fixture));
        await stateStore.commit(pipeline, baseCursor);
        return { sink, stateStore, release };
      } catch (error) {
        await release().catch(() => undefined);
        throw error;
      }
    },
    close: () => drivers.close(),
  };
}
