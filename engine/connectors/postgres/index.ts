export * from './postgres-dialect.ts';
export * from './postgres-compiler.ts';
