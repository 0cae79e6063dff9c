export * from './strategy.ts';
export * from './registry.ts';
export * from './delta.ts';
export { daysBetween } from './backfill.ts';
export { partitionsOf } from './partition-replace.ts';
