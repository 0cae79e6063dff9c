export * from './change.ts';
export * from './predicate.ts';
export * from './load-plan.ts';
export * from './target-schema.ts';
