export * from './bigquery-dialect.ts';
export * from './bigquery-compiler.ts';
