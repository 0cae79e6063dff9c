export * from './mssql-dialect.ts';
export * from './mssql-compiler.ts';
