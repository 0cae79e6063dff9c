export * from './memory-source.ts';
export * from './memory-table-sink.ts';
export * from './memory-event-log-sink.ts';
