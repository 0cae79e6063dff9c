export * from './kafka-avro-codec.ts';
export * from './kafka-codec.ts';
export * from './kafka-driver.ts';
export * from './kafka-event-log-sink.ts';
export * from './kafka-source.ts';
export * from './kafka-state-store.ts';
