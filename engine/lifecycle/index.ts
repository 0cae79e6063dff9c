export * from './faults.ts';
export * from './run-load.ts';
