export * from './rest-api-source.ts';
