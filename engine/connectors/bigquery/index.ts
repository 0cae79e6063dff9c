export * from './bigquery-dialect.ts';
export * from './bigquery-compiler.ts';
export * from './bigquery-driver.ts';
export * from './bigquery-sink.ts';
