import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { TargetSpec } from '../../plan/index.ts';
import { columnIndex } from '../../schema/index.ts';
import type { FaultInjector, LoadReport } from '../../lifecycle/index.ts';
import { failOnceAt, LoadFailedError, runLoad } from '../../lifecycle/index.ts';
import type { StrategyName } from '../../strategies/index.ts';
import { DEFAULT_STRATEGIES } from '../../strategies/index.ts';
import { failedQualityChecks } from '../../../fixtures/connector-test-support.ts';
import { targetBeforeEvents } from '../../../fixtures/scenario.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import type { KafkaConnection } from '../../../fixtures/services/kafka-providers.ts';
import { embeddedKafkaUnavailableReason, KAFKA_PROVIDERS, openKafkaClient } from '../../../fixtures/services/kafka-providers.ts';
import type { ServiceHandle } from '../../../fixtures/services/provider.ts';
import type { SourceHarness } from '../../../matrix/local/family-harness.ts';
import { kafkaSourceHarness, kafkaTopics } from '../../../matrix/local/families/kafka.ts';
import { EVENTS_PER_STEP } from '../memory/index.ts';
import type { KafkaProducerShape, KafkaShape } from './kafka-driver.ts';
import { KafkaDriver } from './kafka-driver.ts';
import { KafkaEventLogSink } from './kafka-event-log-sink.ts';
import type { KafkaSource } from './kafka-source.ts';
import { KafkaStateStore } from './kafka-state-store.ts';

/**
 * Faults at every phase of a Kafka → Kafka load on the local broker. The event log is not
 * transactional, so a failed load may leave events behind; what must hold is that the state
 * (KafkaStateStore) and the source's consumer-group offsets stay at the base cursor, and that a
 * rerun converges: the compacted view (or deduplicated change log) equals the oracle.
 */

const unavailable = await embeddedKafkaUnavailableReason();
// 2,000 rows: a delta of 400 events, so finalize emits in more than one step of EVENTS_PER_STEP.
const FIXTURE = buildSourceFixture('kafka', { rows: 2000, changeRatio: 0.2, deleteRatio: 0.05 });
const KEY = columnIndex(FIXTURE.schema, FIXTURE.schema.key);

/** A kafkajs client whose latest producer can lose its connection on demand. */
class DroppableKafka implements KafkaShape {
  readonly producers: KafkaProducerShape[] = [];
  private dropLatest?: () => void;

  constructor(private readonly inner: KafkaShape) {}

  producer(config: Parameters<KafkaShape['producer']>[0]): KafkaProducerShape {
    const real = this.inner.producer(config);
    let dropped: Promise<void> | undefined;
    this.dropLatest = () => { dropped = real.disconnect(); };
    const producer: KafkaProducerShape = {
      connect: () => real.connect(),
      disconnect: () => real.disconnect(),
      // A send after the drop goes to the disconnected kafkajs producer, which rejects it.
      send: async (record) => {
        await dropped;
        return real.send(record);
      },
    };
    this.producers.push(producer);
    return producer;
  }

  consumer(config: Parameters<KafkaShape['consumer']>[0]) {
    return this.inner.consumer(config);
  }

  admin() {
    return this.inner.admin();
  }

  dropConnection(): void {
    if (!this.dropLatest) throw new Error('no producer to disconnect');
    this.dropLatest();
  }
}

let handle: ServiceHandle<KafkaConnection> | undefined;
let sources: SourceHarness;

/** A seeded Kafka source and Kafka sink in namespace `ns`, the source group at the base cursor. */
async function seeded(strategyName: StrategyName, ns: string) {
  if (!handle) throw new Error('Kafka is not running');
  const strategy = DEFAULT_STRATEGIES.get(strategyName);
  const seededSource = await sources.seedSource(FIXTURE, ns);
  const source = seededSource.source as KafkaSource;
  await source.acknowledge(seededSource.baseCursor);
  const kafka = new DroppableKafka(await openKafkaClient(handle.connection));
  const driver = new KafkaDriver(kafka);
  const sink = new KafkaEventLogSink(driver, { topicPrefix: kafkaTopics.targetPrefix(ns) });
  const stateStore = new KafkaStateStore(driver, kafkaTopics.state(ns));
  const target: TargetSpec = { name: 'orders', dataSchema: FIXTURE.schema, shape: strategy.targetShape('event_log') };
  const pipeline = `p_${ns}`;
  await sink.prepare(target);
  await sink.append(target, targetBeforeEvents(FIXTURE));
  await stateStore.commit(pipeline, seededSource.baseCursor);
  const load = (faults?: FaultInjector): Promise<LoadReport> => runLoad({
    pipeline, source, sink, strategy, stateStore, targetName: target.name, faults,
    options: { window: FIXTURE.window, backfill: FIXTURE.backfill },
  });
  const failedChecks = (report: LoadReport) =>
    failedQualityChecks({ fixture: FIXTURE, strategy: strategyName, sinkKind: 'event_log', sink, target, stateStore, pipeline }, report);
  const release = async () => {
    try {
      await driver.deleteTopics([sink.topic(target), stateStore.topic]);
    } finally {
      await sink.close();
      await seededSource.release();
    }
  };
  return { kafka, sink, source, stateStore, target, pipeline, base: seededSource.baseCursor, load, failedChecks, release };
}

type Seeded = Awaited<ReturnType<typeof seeded>>;

/**
 * Runs the load with `faults`, expects it to fail at `phase` with state and group offsets at the
 * base cursor, reruns it and expects convergence; returns the events the failed load left behind.
 */
async function failThenConverge(load: Seeded, faults: FaultInjector, phase: string): Promise<number> {
  const before = (await load.sink.read(load.target)).eventCount ?? 0;
  const error = await load.load(faults).then(() => null, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(LoadFailedError);
  expect((error as LoadFailedError).phase).toBe(phase);
  expect(await load.stateStore.load(load.pipeline)).toEqual(load.base);
  expect(await load.source.committedCursor()).toEqual(load.base);
  const leftBehind = ((await load.sink.read(load.target)).eventCount ?? 0) - before;

  const rerun = await load.load(faults);
  expect(await load.failedChecks(rerun)).toEqual([]);
  if (load.target.shape !== 'changelog') {
    // The compacted view holds each key once, however many times a retried event was produced.
    const keys = (await load.sink.read(load.target)).rows.map((row) => row[KEY]);
    expect(new Set(keys).size).toBe(keys.length);
  }
  expect(await load.source.committedCursor()).toEqual(await load.source.headCursor());
  return leftBehind;
}

describe.skipIf(unavailable !== null)(
  unavailable === null ? 'Kafka → Kafka loads under injected faults on a local Kafka broker' : `Kafka faults — skipped: ${unavailable}`,
  () => {
    beforeAll(async () => {
      const embedded = KAFKA_PROVIDERS.find((provider) => provider.kind === 'embedded');
      if (!embedded) throw new Error('no embedded Kafka provider');
      handle = await embedded.start({});
      sources = kafkaSourceHarness(handle);
    }, 180_000);

    afterAll(async () => {
      await sources.close();
      await handle?.stop();
    }, 60_000);

    test('a fault after staging emits nothing; the rerun converges', async () => {
      const load = await seeded('incremental_merge', 'f_staging');
      try {
        expect(await failThenConverge(load, failOnceAt('validate_staging'), 'validate_staging')).toBe(0);
      } finally {
        await load.release();
      }
    }, 120_000);

    test.each<StrategyName>(['incremental_merge', 'incremental_append'])('%s: a fault mid-emission leaves part of the batch; the rerun converges by event id', async (strategy) => {
      const load = await seeded(strategy, `f_mid_${strategy}`);
      try {
        expect(await failThenConverge(load, failOnceAt('finalize', { step: 1 }), 'finalize')).toBe(EVENTS_PER_STEP);
      } finally {
        await load.release();
      }
    }, 120_000);

    test('a fault before the state commit leaves every event; the rerun re-emits them under the same ids', async () => {
      const load = await seeded('incremental_merge', 'f_commit');
      try {
        const leftBehind = await failThenConverge(load, failOnceAt('commit_state'), 'commit_state');
        expect(leftBehind).toBe(new Set(FIXTURE.changes.map((change) => change.key)).size);
      } finally {
        await load.release();
      }
    }, 120_000);

    test('a connection dropped mid-finalize fails the load; the rerun connects a new producer and converges', async () => {
      const load = await seeded('incremental_merge', 'f_drop');
      const faults: FaultInjector = {
        check: (point) => { if (point.phase === 'finalize' && point.step === 1 && load.kafka.producers.length === 1) load.kafka.dropConnection(); },
      };
      try {
        expect(await failThenConverge(load, faults, 'finalize')).toBe(EVENTS_PER_STEP);
        expect(load.kafka.producers.length).toBe(2);
      } finally {
        await load.release();
      }
    }, 120_000);
  },
);
