export * from './names.ts';
export * from './sql-statement.ts';
export * from './sql-dialect.ts';
export * from './sql-compiler.ts';
export * from './type-mapping-doc.ts';
