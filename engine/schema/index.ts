export * from './type-family.ts';
export * from './table-schema.ts';
export * from './canonical.ts';
export * from './row-hash.ts';
