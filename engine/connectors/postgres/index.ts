export * from './postgres-dialect.ts';
export * from './postgres-compiler.ts';
export * from './postgres-driver.ts';
export * from './postgres-sink.ts';
export * from './postgres-source.ts';
export * from './postgres-copy.ts';
