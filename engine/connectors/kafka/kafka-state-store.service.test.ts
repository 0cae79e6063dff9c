import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { KafkaLocalBroker } from '../../../fixtures/services/kafka-local.ts';
import { embeddedKafkaUnavailableReason, openKafkaDriver } from '../../../fixtures/services/kafka-providers.ts';
import type { KafkaDriver } from './kafka-driver.ts';
import { KAFKA_STATE_TOPIC, KafkaStateStore } from './kafka-state-store.ts';

const unavailable = await embeddedKafkaUnavailableReason();

describe.skipIf(unavailable !== null)(
  unavailable === null ? 'KafkaStateStore on a local Kafka broker' : `KafkaStateStore — skipped: ${unavailable}`,
  () => {
    let broker: KafkaLocalBroker | undefined;
    let driver: KafkaDriver;

    beforeAll(async () => {
      broker = await KafkaLocalBroker.start();
      driver = await openKafkaDriver({ bootstrapServers: broker.endpoint.bootstrapServers });
    }, 180_000);

    afterAll(async () => {
      await driver.close();
      await broker?.stop();
    }, 60_000);

    test('load returns each pipeline\'s latest commit, {} before the first; a new store reads the same', async () => {
      const store = new KafkaStateStore(driver);
      expect(await store.load('orders')).toEqual({});
      await store.commit('orders', { offsets: { 0: '10' }, loadId: 'L1' });
      await store.commit('customers', { watermark: 1_700_000_000_000_000 });
      await store.commit('orders', { offsets: { 0: '25', 1: '3' }, loadId: 'L2' });
      expect(await store.load('orders')).toEqual({ offsets: { 0: '25', 1: '3' }, loadId: 'L2' });
      expect(await store.load('customers')).toEqual({ watermark: 1_700_000_000_000_000 });
      expect(await new KafkaStateStore(driver, KAFKA_STATE_TOPIC).load('orders')).toEqual({ offsets: { 0: '25', 1: '3' }, loadId: 'L2' });
    }, 60_000);
  },
);
