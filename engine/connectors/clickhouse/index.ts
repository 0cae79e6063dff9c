export * from './clickhouse-dialect.ts';
export * from './clickhouse-compiler.ts';
