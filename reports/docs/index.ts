export { checkDocs, renderDocs, writeDocs } from './docs-generator.ts';
