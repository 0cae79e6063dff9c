export * from './mssql-dialect.ts';
export * from './mssql-compiler.ts';
export * from './mssql-driver.ts';
export * from './mssql-sink.ts';
export * from './mssql-source.ts';
export * from './mssql-bulk.ts';
