import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_STRATEGIES } from '../engine/strategies/index.ts';
import { EXTRA_PACKAGES, sinkFamily, sourceFamily } from './families.ts';
import type { ManifestFragment } from './manifest.ts';
import type { MatrixCase, RunMode } from './registry.ts';
import { RUN_MODE_INFO } from './run-modes.ts';

/** Pages that must link every pair guide. */
export const GUIDE_INDEX_PAGES = ['source-sink-matrix.md', 'load-strategies.md'] as const;

const SECRET_KEY = /pass(word)?|secret|token|credential|private_key|api_key/i;

/** Markdown link targets of a page, as written. */
function linkTargets(markdown: string): Set<string> {
  return new Set([...markdown.matchAll(/\]\(([^)\s#]+)(?:#[^)]*)?\)/g)].map((match) => match[1] ?? ''));
}

const indexCache = new Map<string, Map<string, Set<string>>>();

function indexLinks(docsDir: string): Map<string, Set<string>> {
  let links = indexCache.get(docsDir);
  if (!links) {
    links = new Map(GUIDE_INDEX_PAGES.map((page) => {
      const path = join(docsDir, page);
      return [page, existsSync(path) ? linkTargets(readFileSync(path, 'utf8')) : new Set<string>()];
    }));
    indexCache.set(docsDir, links);
  }
  return links;
}

function secretKeys(value: unknown, path = ''): string[] {
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, inner]) =>
    [...(SECRET_KEY.test(key) ? [`${path}${key}`] : []), ...secretKeys(inner, `${path}${key}.`)]);
}

/**
 * Everything a case must satisfy before its behavior means anything: a manifest fragment with the
 * right source/sink/strategy modes, a guide that exists and is linked from the index pages, no
 * credentials needed in this mode, and the driver extras declared. Returns the problems found.
 */
export function contractProblems(matrixCase: MatrixCase, fragment: ManifestFragment, mode: RunMode, docsDir: string): string[] {
  const problems: string[] = [];
  const source = sourceFamily(matrixCase.source);
  const sink = sinkFamily(matrixCase.sink);
  const strategy = DEFAULT_STRATEGIES.get(matrixCase.strategy);
  if (fragment.source.type !== matrixCase.source) problems.push(`manifest source.type is ${fragment.source.type}`);
  if (fragment.sink.type !== matrixCase.sink) problems.push(`manifest sink.type is ${fragment.sink.type}`);
  if (fragment.strategy.mode !== matrixCase.strategy) problems.push(`manifest strategy.mode is ${fragment.strategy.mode}`);
  if (fragment.source.mode === 'xmin' && !source.capabilities.xmin) problems.push(`${source.label} cannot provide xmin deltas`);
  if (fragment.source.mode === 'cdc' && !source.capabilities.cdc) problems.push(`${source.label} has no CDC`);
  if (!strategy.sinkKinds.includes(sink.kind)) problems.push(`strategy ${matrixCase.strategy} cannot load a ${sink.kind} sink`);
  const eventLogModes = ['changelog', 'keyed_upsert'];
  if ((sink.kind === 'event_log') !== eventLogModes.includes(fragment.sink.write_mode)) {
    problems.push(`write mode ${fragment.sink.write_mode} does not fit a ${sink.kind} sink`);
  }
  const secrets = secretKeys(fragment);
  if (secrets.length) problems.push(`manifest fragment holds credential fields: ${secrets.join(', ')}`);
  if (matrixCase.externalCredentialsRequired && !RUN_MODE_INFO[mode].credentials) {
    problems.push(`mode ${mode} must not require external credentials`);
  }
  for (const extra of [source.extra, sink.extra]) {
    if (!matrixCase.installExtras.includes(extra)) problems.push(`install extra ${extra} is not declared`);
    if (!(extra in EXTRA_PACKAGES)) problems.push(`install extra ${extra} names no driver packages`);
  }
  if (!existsSync(join(docsDir, matrixCase.guide))) problems.push(`guide docs/${matrixCase.guide} does not exist`);
  for (const [page, links] of indexLinks(docsDir)) {
    if (!links.has(matrixCase.guide)) problems.push(`docs/${page} does not link ${matrixCase.guide}`);
  }
  return problems;
}
