import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { contractProblems, GUIDE_INDEX_PAGES } from './contract.ts';
import type { ManifestFragment } from './manifest.ts';
import { manifestFragment } from './manifest.ts';
import type { MatrixCase } from './registry.ts';
import { findCase, MATRIX, RUN_MODES } from './registry.ts';

const DOCS_DIR = fileURLToPath(new URL('../docs/', import.meta.url));
const tempDirs: string[] = [];

/** A fresh copy of docs/ per scenario: contract.ts caches the index pages per docs directory. */
function docsCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dpone-contract-'));
  tempDirs.push(dir);
  const docs = join(dir, 'docs');
  cpSync(DOCS_DIR, docs, { recursive: true });
  return docs;
}

afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function caseOf(id: string): MatrixCase {
  const matrixCase = findCase(id);
  if (!matrixCase) throw new Error(`no case ${id}`);
  return matrixCase;
}

const PG_TO_MSSQL = caseOf('postgres_to_mssql__incremental_merge');

describe('contractProblems against the repository docs', () => {
  it('finds no problem for any of the 200 cases in any mode', () => {
    for (const mode of RUN_MODES) {
      const problems = MATRIX.flatMap((matrixCase) =>
        contractProblems(matrixCase, manifestFragment(matrixCase), mode, DOCS_DIR).map((problem) => `${matrixCase.id}: ${problem}`));
      expect(problems, mode).toEqual([]);
    }
  });

  it('the generated fragments carry the case and no credential', () => {
    for (const matrixCase of MATRIX) {
      const fragment = manifestFragment(matrixCase);
      expect(fragment.pipeline).toBe(matrixCase.id);
      expect(fragment.source.type).toBe(matrixCase.source);
      expect(fragment.sink.type).toBe(matrixCase.sink);
      expect(fragment.strategy.mode).toBe(matrixCase.strategy);
      expect(fragment.connection.provider).toBe('env');
      expect(JSON.stringify(fragment)).not.toMatch(/password|secret|token/i);
    }
  });
});

describe('contractProblems reports broken contracts', () => {
  it('a missing guide', () => {
    const docs = docsCopy();
    rmSync(join(docs, 'source-sink', 'postgres-to-mssql.md'));
    const problems = contractProblems(PG_TO_MSSQL, manifestFragment(PG_TO_MSSQL), 'mock_contract', docs);
    expect(problems).toEqual(['guide docs/source-sink/postgres-to-mssql.md does not exist']);
    // Other pairs are unaffected.
    const other = caseOf('postgres_to_postgres__replace');
    expect(contractProblems(other, manifestFragment(other), 'mock_contract', docs)).toEqual([]);
  });

  it.each(GUIDE_INDEX_PAGES.map((page) => [page]))('an index page (%s) that does not link the guide', (page) => {
    const docs = docsCopy();
    const path = join(docs, page);
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('](source-sink/rest-api-to-kafka.md');
    writeFileSync(path, text.replaceAll('](source-sink/rest-api-to-kafka.md', '](source-sink/elsewhere.md'));
    const matrixCase = caseOf('rest_api_to_kafka__snapshot_diff');
    expect(contractProblems(matrixCase, manifestFragment(matrixCase), 'mock_contract', docs))
      .toEqual([`docs/${page} does not link source-sink/rest-api-to-kafka.md`]);
  });

  it('a missing index page means no guide is linked from it', () => {
    const docs = docsCopy();
    rmSync(join(docs, 'load-strategies.md'));
    expect(contractProblems(PG_TO_MSSQL, manifestFragment(PG_TO_MSSQL), 'mock_contract', docs))
      .toEqual(['docs/load-strategies.md does not link source-sink/postgres-to-mssql.md']);
  });

  it('a fragment with the wrong source.type, sink.type or strategy.mode', () => {
    const fragment = manifestFragment(PG_TO_MSSQL);
    const wrong: ManifestFragment = {
      ...fragment,
      source: { ...fragment.source, type: 'mysql' },
      sink: { ...fragment.sink, type: 'postgres' },
      strategy: { ...fragment.strategy, mode: 'replace' },
    };
    expect(contractProblems(PG_TO_MSSQL, wrong, 'mock_contract', DOCS_DIR)).toEqual([
      'manifest source.type is mysql',
      'manifest sink.type is postgres',
      'manifest strategy.mode is replace',
    ]);
  });

  it('a fragment whose write mode does not fit the sink', () => {
    const kafkaCase = caseOf('postgres_to_kafka__incremental_merge');
    const fragment = manifestFragment(kafkaCase);
    expect(contractProblems(kafkaCase, { ...fragment, sink: { ...fragment.sink, write_mode: 'merge' } }, 'mock_contract', DOCS_DIR))
      .toEqual([expect.stringMatching(/^write mode merge does not fit an? event_log sink$/)]);
    const dbFragment = manifestFragment(PG_TO_MSSQL);
    expect(contractProblems(PG_TO_MSSQL, { ...dbFragment, sink: { ...dbFragment.sink, write_mode: 'changelog' } }, 'mock_contract', DOCS_DIR))
      .toEqual([expect.stringMatching(/^write mode changelog does not fit a relational sink$/)]);
  });

  it('a fragment with a password (at any depth)', () => {
    const fragment = manifestFragment(PG_TO_MSSQL);
    const withSecret = {
      ...fragment,
      connection: { ...fragment.connection, password: 'hunter2' },
      strategy: { ...fragment.strategy, options: { nested: { api_key: 'k' } } },
    };
    const problems = contractProblems(PG_TO_MSSQL, withSecret, 'mock_contract', DOCS_DIR);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^manifest fragment holds credential fields: /);
    expect(problems[0]).toContain('connection.password');
    expect(problems[0]).toContain('strategy.options.nested.api_key');
    expect(problems[0]).not.toContain('hunter2');
  });

  it('xmin on a non-postgres source', () => {
    const postgresXmin = caseOf('postgres_to_mssql__xmin');
    const fake: MatrixCase = { ...postgresXmin, id: 'mssql_to_mssql__xmin', source: 'mssql', installExtras: ['mssql'], guide: 'source-sink/mssql-to-mssql.md' };
    expect(contractProblems(fake, manifestFragment(fake), 'mock_contract', DOCS_DIR)).toEqual(['SQL Server cannot provide xmin deltas']);
  });

  it('cdc on a source without CDC', () => {
    const postgresCdc = caseOf('postgres_to_postgres__cdc');
    const fake: MatrixCase = { ...postgresCdc, id: 'clickhouse_to_postgres__cdc', source: 'clickhouse', installExtras: ['clickhouse', 'postgres'], guide: 'source-sink/clickhouse-to-postgres.md' };
    expect(contractProblems(fake, manifestFragment(fake), 'mock_contract', DOCS_DIR)).toEqual(['ClickHouse has no CDC']);
  });

  it('a strategy that cannot load the sink kind', () => {
    const scd2 = caseOf('postgres_to_postgres__scd2');
    const fake: MatrixCase = { ...scd2, id: 'postgres_to_kafka__scd2', sink: 'kafka', installExtras: ['postgres', 'kafka'], guide: 'source-sink/postgres-to-kafka.md' };
    expect(contractProblems(fake, manifestFragment(fake), 'mock_contract', DOCS_DIR)).toEqual([expect.stringMatching(/^strategy scd2 cannot load an? event_log sink$/)]);
  });

  it('install extras missing', () => {
    const matrixCase = caseOf('rest_api_to_kafka__replace');
    const fake: MatrixCase = { ...matrixCase, installExtras: ['rest_api'] };
    expect(contractProblems(fake, manifestFragment(fake), 'mock_contract', DOCS_DIR)).toEqual(['install extra kafka is not declared']);
    const none: MatrixCase = { ...matrixCase, installExtras: [] };
    expect(contractProblems(none, manifestFragment(none), 'mock_contract', DOCS_DIR))
      .toEqual(['install extra rest_api is not declared', 'install extra kafka is not declared']);
  });

  it('a case that would need credentials outside vendor_live', () => {
    // externalCredentialsRequired is typed `false`; a broken registry could still produce true.
    const fake = { ...PG_TO_MSSQL, externalCredentialsRequired: true } as unknown as MatrixCase;
    expect(contractProblems(fake, manifestFragment(fake), 'mock_local', DOCS_DIR)).toEqual(['mode mock_local must not require external credentials']);
    expect(contractProblems(fake, manifestFragment(fake), 'vendor_live', DOCS_DIR)).toEqual([]);
  });
});
