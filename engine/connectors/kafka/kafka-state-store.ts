import type { LoadState, StateStore } from '../../state/index.ts';
import type { KafkaDriver } from './kafka-driver.ts';

/** The state topic's default name: the Kafka counterpart of `etl_state.__dpone__loads`. */
export const KAFKA_STATE_TOPIC = 'dpone.__dpone__loads';

/**
 * Pipeline state in a compacted topic: one message per commit, keyed by pipeline, the state as
 * JSON. `load` is a bounded read of the topic (end offsets fixed first) that keeps the pipeline's
 * last record. The topic is created on first use with `cleanup.policy=compact`, so the broker keeps
 * the latest state of every pipeline however often it commits.
 */
export class KafkaStateStore implements StateStore {
  private ready?: Promise<void>;

  constructor(private readonly driver: KafkaDriver, readonly topic: string = KAFKA_STATE_TOPIC) {}

  async load(pipeline: string): Promise<LoadState> {
    await this.ensureTopic();
    const end = await this.driver.endOffsets(this.topic);
    let state: LoadState = {};
    for (const message of await this.driver.consume(this.topic, new Map(), end)) {
      if (message.key !== pipeline) continue;
      state = message.value === null ? {} : (JSON.parse(message.value.toString('utf8')) as LoadState);
    }
    return state;
  }

  async commit(pipeline: string, state: LoadState): Promise<void> {
    await this.ensureTopic();
    await this.driver.produce(this.topic, [{ key: pipeline, value: JSON.stringify(state), headers: {} }]);
  }

  private ensureTopic(): Promise<void> {
    this.ready ??= this.driver.createTopic(this.topic, { partitions: 1, config: { 'cleanup.policy': 'compact' } })
      .catch((error: unknown) => {
        this.ready = undefined;
        throw error;
      });
    return this.ready;
  }
}
