import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { valueSubject } from '../../../engine/connectors/kafka/index.ts';
import { MemoryTableSink } from '../../../engine/connectors/memory/index.ts';
import { MemoryStateStore } from '../../../engine/state/index.ts';
import type { StrategyName } from '../../../engine/strategies/index.ts';
import { loadHarnessCase } from '../../../fixtures/connector-test-support.ts';
import { memorySourceFor, targetBeforeRows } from '../../../fixtures/scenario.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import type { KafkaConnection } from '../../../fixtures/services/kafka-providers.ts';
import { embeddedKafkaUnavailableReason, KAFKA_PROVIDERS, openKafkaDriver, openSchemaRegistry } from '../../../fixtures/services/kafka-providers.ts';
import type { ServiceHandle } from '../../../fixtures/services/provider.ts';
import type { SchemaRegistryMock } from '../../../fixtures/services/schema-registry-mock.ts';
import { startSchemaRegistryMock } from '../../../fixtures/services/schema-registry-mock.ts';
import { sourceFamily } from '../../families.ts';
import type { SinkHarness, SourceHarness } from '../family-harness.ts';
import { kafkaSinkHarness, kafkaSourceHarness, kafkaTopics } from './kafka.ts';

/**
 * The Kafka harnesses end to end on the local broker: a source (a seeded Kafka topic, or the memory
 * source of the same fixture) loaded by runLoad into a seeded Kafka sink, whose topic read back must
 * pass every quality check of the event-log oracle; and the Kafka source into a memory table.
 * With a Schema Registry (the in-process mock) configured, the same loads run on Avro values.
 * Releasing a case leaves none of its topics behind.
 */

const unavailable = await embeddedKafkaUnavailableReason();
const FIXTURE = buildSourceFixture('kafka', { rows: 300, changeRatio: 0.2, deleteRatio: 0.05 });
const CAPABILITIES = sourceFamily('kafka').capabilities;
const EVENT_LOG_STRATEGIES: readonly StrategyName[] = ['full_refresh', 'incremental_append', 'incremental_merge', 'replace', 'snapshot_diff'];

let handle: ServiceHandle<KafkaConnection> | undefined;
let kafkaSource: SourceHarness;
let kafkaSink: SinkHarness;
let registryMock: SchemaRegistryMock | undefined;
let avroSource: SourceHarness;
let avroSink: SinkHarness;

/** The memory source of the fixture as a source harness (no service). */
const memorySourceHarness: SourceHarness = {
  family: 'memory',
  services: [],
  seedSource: async (fixture) => {
    const source = memorySourceFor(fixture, CAPABILITIES);
    return { source, baseCursor: source.baseCursor(), release: async () => undefined };
  },
  close: async () => undefined,
};

/** A memory table (relational) as a sink harness. */
const memoryTableHarness: SinkHarness = {
  family: 'memory',
  services: [],
  seedSink: async (fixture, target, _ns, pipeline, baseCursor) => {
    const stateStore = new MemoryStateStore({ [pipeline]: baseCursor });
    return { sink: new MemoryTableSink(targetBeforeRows(fixture, target.shape), stateStore), stateStore, release: async () => undefined };
  },
  close: async () => undefined,
};

/** Loads the fixture from a source harness into a sink harness; returns the failed quality checks. */
async function loadCase(sourceHarness: SourceHarness, sinkHarness: SinkHarness, strategyName: StrategyName, sinkKind: 'relational' | 'event_log', ns: string) {
  const seededSource = await sourceHarness.seedSource(FIXTURE, ns);
  try {
    return await loadHarnessCase({ fixture: FIXTURE, strategy: strategyName, sinkKind, source: seededSource.source, baseCursor: seededSource.baseCursor, sinkHarness, ns });
  } finally {
    await seededSource.release();
  }
}

/**
 * A sink harness that, before a case releases its sink, records the values of the case's source and
 * target topics (release deletes them) into `values`, by topic.
 */
function recordingValues(harness: SinkHarness, values: Map<string, (Buffer | null)[]>): SinkHarness {
  return {
    ...harness,
    seedSink: async (fixture, target, ns, pipeline, baseCursor) => {
      const seeded = await harness.seedSink(fixture, target, ns, pipeline, baseCursor);
      return {
        ...seeded,
        release: async () => {
          if (!handle) throw new Error('Kafka is not running');
          const driver = await openKafkaDriver(handle.connection);
          try {
            for (const topic of [kafkaTopics.source(ns), `${kafkaTopics.targetPrefix(ns)}${target.name}`]) {
              values.set(topic, (await driver.consume(topic, new Map(), await driver.endOffsets(topic))).map((message) => message.value));
            }
          } finally {
            await driver.close();
            await seeded.release();
          }
        },
      };
    },
  };
}

/** Topics of a case still on the broker. */
async function leftovers(ns: string): Promise<string[]> {
  if (!handle) throw new Error('Kafka is not running');
  const driver = await openKafkaDriver(handle.connection);
  try {
    return (await driver.topics()).filter((topic) => topic.startsWith(ns));
  } finally {
    await driver.close();
  }
}

describe.skipIf(unavailable !== null)(
  unavailable === null ? 'Kafka harnesses on a local Kafka broker' : `Kafka harnesses — skipped: ${unavailable}`,
  () => {
    beforeAll(async () => {
      const embedded = KAFKA_PROVIDERS.find((provider) => provider.kind === 'embedded');
      if (!embedded) throw new Error('no embedded Kafka provider');
      handle = await embedded.start({});
      kafkaSource = kafkaSourceHarness(handle);
      kafkaSink = kafkaSinkHarness(handle);
      registryMock = await startSchemaRegistryMock();
      const avro: ServiceHandle<KafkaConnection> = { ...handle, connection: { ...handle.connection, schemaRegistryUrl: registryMock.url } };
      avroSource = kafkaSourceHarness(avro);
      avroSink = kafkaSinkHarness(avro);
    }, 180_000);

    afterAll(async () => {
      await kafkaSource.close();
      await kafkaSink.close();
      await avroSource.close();
      await avroSink.close();
      await handle?.stop();
      await registryMock?.stop();
    }, 60_000);

    test.each(EVENT_LOG_STRATEGIES)('kafka → kafka %s passes every quality check and releases its topics', async (strategy) => {
      const ns = `k2k_${strategy}`;
      expect(await loadCase(kafkaSource, kafkaSink, strategy, 'event_log', ns)).toEqual([]);
      expect(await leftovers(ns)).toEqual([]);
    }, 120_000);

    test.each(EVENT_LOG_STRATEGIES)('memory → kafka %s passes every quality check', async (strategy) => {
      const ns = `m2k_${strategy}`;
      expect(await loadCase(memorySourceHarness, kafkaSink, strategy, 'event_log', ns)).toEqual([]);
      expect(await leftovers(ns)).toEqual([]);
    }, 120_000);

    test('kafka → memory table incremental_merge passes every quality check', async () => {
      expect(await loadCase(kafkaSource, memoryTableHarness, 'incremental_merge', 'relational', 'k2m_merge')).toEqual([]);
      expect(await leftovers('k2m_merge')).toEqual([]);
    }, 120_000);

    test.each(EVENT_LOG_STRATEGIES)('kafka → kafka %s with a Schema Registry passes every quality check on Avro values', async (strategy) => {
      if (!registryMock) throw new Error('the Schema Registry mock is not running');
      const values = new Map<string, (Buffer | null)[]>();
      const ns = `k2k_avro_${strategy}`;
      expect(await loadCase(avroSource, recordingValues(avroSink, values), strategy, 'event_log', ns)).toEqual([]);
      expect(await leftovers(ns)).toEqual([]);
      const registry = await openSchemaRegistry(registryMock.url);
      expect([...values.keys()]).toHaveLength(2);
      for (const [topic, topicValues] of values) {
        const id = await registry.getLatestSchemaId(valueSubject(topic));
        const framed = topicValues.filter((value) => value !== null);
        expect(framed.length, topic).toBeGreaterThan(FIXTURE.before.length);
        expect(framed.every((value) => value[0] === 0 && value.readUInt32BE(1) === id), topic).toBe(true);
      }
    }, 120_000);
  },
);
