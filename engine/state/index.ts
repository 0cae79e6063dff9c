export * from './load-state.ts';
export * from './lsn.ts';
