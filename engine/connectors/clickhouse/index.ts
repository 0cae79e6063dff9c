export * from './clickhouse-dialect.ts';
export * from './clickhouse-compiler.ts';
export * from './clickhouse-driver.ts';
export * from './clickhouse-native-insert.ts';
export * from './clickhouse-sink.ts';
export * from './clickhouse-source.ts';
