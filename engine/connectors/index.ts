export * from './source.ts';
export * from './sink.ts';
export * from './memory/index.ts';
export * from './rest-api/index.ts';
