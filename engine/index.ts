export * from './schema/index.ts';
export * from './plan/index.ts';
export * from './state/index.ts';
export * from './connectors/index.ts';
export * from './strategies/index.ts';
export * from './lifecycle/index.ts';
export * from './usage-error.ts';
