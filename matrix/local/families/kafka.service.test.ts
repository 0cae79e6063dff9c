import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MemoryTableSink } from '../../../engine/connectors/memory/index.ts';
import { MemoryStateStore } from '../../../engine/state/index.ts';
import type { StrategyName } from '../../../engine/strategies/index.ts';
import { loadHarnessCase } from '../../../fixtures/connector-test-support.ts';
import { memorySourceFor, targetBeforeRows } from '../../../fixtures/scenario.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import type { KafkaConnection } from '../../../fixtures/services/kafka-providers.ts';
import { embeddedKafkaUnavailableReason, KAFKA_PROVIDERS, openKafkaDriver } from '../../../fixtures/services/kafka-providers.ts';
import type { ServiceHandle } from '../../../fixtures/services/provider.ts';
import { sourceFamily } from '../../families.ts';
import type { SinkHarness, SourceHarness } from '../family-harness.ts';
import { kafkaSinkHarness, kafkaSourceHarness } from './kafka.ts';

/**
 * The Kafka harnesses end to end on the local broker: a source (a seeded Kafka topic, or the memory
 * source of the same fixture) loaded by runLoad into a seeded Kafka sink, whose topic read back must
 * pass every quality check of the event-log oracle; and the Kafka source into a memory table.
 * Releasing a case leaves none of its topics behind.
 */

const unavailable = await embeddedKafkaUnavailableReason();
const FIXTURE = buildSourceFixture('kafka', { rows: 300, changeRatio: 0.2, deleteRatio: 0.05 });
const CAPABILITIES = sourceFamily('kafka').capabilities;
const EVENT_LOG_STRATEGIES: readonly StrategyName[] = ['full_refresh', 'incremental_append', 'incremental_merge', 'replace', 'snapshot_diff'];

let handle: ServiceHandle<KafkaConnection> | undefined;
let kafkaSource: SourceHarness;
let kafkaSink: SinkHarness;

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
    }, 180_000);

    afterAll(async () => {
      await kafkaSource.close();
      await kafkaSink.close();
      await handle?.stop();
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
  },
);
