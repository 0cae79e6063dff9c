import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { stableJson } from '../../schema/index.ts';
import type { LoadReport } from '../../lifecycle/index.ts';
import { LoadFailedError, runLoad } from '../../lifecycle/index.ts';
import type { StrategyName } from '../../strategies/index.ts';
import { DEFAULT_STRATEGIES } from '../../strategies/index.ts';
import { stagingSchema } from '../../sql/index.ts';
import { memorySourceFor } from '../../../fixtures/scenario.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import { sourceFamily } from '../../../matrix/families.ts';
import type { BigQueryLoadShape, BigQueryQueryShape, BigQueryShape } from './bigquery-driver.ts';
import { BigQueryDriver } from './bigquery-driver.ts';
import { BigQuerySink } from './bigquery-sink.ts';

/**
 * The BigQuery sink against a recording fake of the `@google-cloud/bigquery` client (vendor_live
 * needs credentials; the SQL itself is pinned by the dialect snapshots): load-job staging through
 * the STRING wire table, and the finalize, reconcile and state MERGE in one session transaction.
 */

const FIXTURE = buildSourceFixture('bigquery', { rows: 40, changeRatio: 0.25, deleteRatio: 0.05 });
const CAPABILITIES = sourceFamily('postgres').capabilities;
const SESSION = 'session-1';

type Recorded =
  | { readonly kind: 'query'; readonly options: BigQueryQueryShape }
  | { readonly kind: 'load'; readonly table: string; readonly metadata: BigQueryLoadShape; readonly rows: readonly Record<string, unknown>[] };

/** A fake client answering like BigQuery would for this load; `keysAbsent` is what keys_absent observes. */
function fakeClient(keysAbsent = 0): { client: BigQueryShape; recorded: Recorded[] } {
  const recorded: Recorded[] = [];
  const staged = () => recorded.findLast((entry) => entry.kind === 'load')?.kind === 'load'
    ? (recorded.findLast((entry) => entry.kind === 'load') as Extract<Recorded, { kind: 'load' }>).rows : [];
  const answer = (sql: string): Record<string, unknown>[] => {
    if (sql.startsWith('SELECT `state`')) return [{ state: stableJson(memorySourceFor(FIXTURE, CAPABILITIES).baseCursor()) }];
    if (sql.includes('AS staged_rows')) return [{ staged_rows: staged().length }];
    if (sql.includes("s.`__dpone__op` <> 'D' AND")) return [{ observed: staged().filter((row) => row.__dpone__op !== 'D').length }];
    if (sql.includes("s.`__dpone__op` = 'D' AND")) return [{ observed: keysAbsent }];
    if (sql.startsWith('SELECT COUNT(*) AS observed FROM `ds`.`ns__orders`')) return [{ observed: FIXTURE.before.length }];
    return [];
  };
  const client: BigQueryShape = {
    createQueryJob: async (options) => {
      recorded.push({ kind: 'query', options });
      const rows = answer(options.query);
      return [{
        ...(options.createSession ? { metadata: { statistics: { sessionInfo: { sessionId: SESSION } } } } : {}),
        getQueryResults: async () => [rows],
      }];
    },
    dataset: (dataset) => ({
      table: (table) => ({
        load: async (file, metadata) => {
          const rows = readFileSync(file, 'utf8').split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
          recorded.push({ kind: 'load', table: `${dataset}.${table}`, metadata, rows });
          return [{}];
        },
      }),
    }),
  };
  return { client, recorded };
}

/** One line per call: `[session] first line of the query`, or the load job's table and row count. */
function timeline(recorded: readonly Recorded[]): string[] {
  return recorded.map((entry) => {
    if (entry.kind === 'load') return `load ${entry.table}: ${entry.rows.length} rows`.replace(/stg_[0-9a-f]+_/g, 'stg_*_');
    const session = entry.options.createSession ? '[new session] ' : entry.options.connectionProperties ? '[session] ' : '';
    const line = `${session}${entry.options.query.split('\n')[0] ?? ''}`.replace(/stg_[0-9a-f]+_/g, 'stg_*_');
    return line.length > 110 ? `${line.slice(0, 110)}…` : line;
  });
}

function load(strategy: StrategyName, client: BigQueryShape): Promise<LoadReport> {
  const sink = new BigQuerySink(new BigQueryDriver(client), { dataset: 'ds', tablePrefix: 'ns__' });
  return runLoad({
    pipeline: 'orders', source: memorySourceFor(FIXTURE, CAPABILITIES), sink, strategy: DEFAULT_STRATEGIES.get(strategy),
    stateStore: sink.stateStore, targetName: 'orders', options: { window: FIXTURE.window, backfill: FIXTURE.backfill },
  });
}

describe('BigQuerySink against a recording fake of @google-cloud/bigquery', () => {
  test('incremental_merge: load-job staging, then MERGE, reconcile and the state MERGE in one session transaction', async () => {
    const { client, recorded } = fakeClient();
    const report = await load('incremental_merge', client);
    expect(report.batches.map((batch) => batch.committed)).toEqual([true]);
    expect(timeline(recorded)).toEqual([
      'CREATE SCHEMA IF NOT EXISTS `ds`',
      'CREATE TABLE IF NOT EXISTS `ds`.`__dpone__loads` (',
      'SELECT `state` AS `state` FROM `ds`.`__dpone__loads` WHERE `pipeline` = CAST(@p1 AS STRING)',
      'CREATE SCHEMA IF NOT EXISTS `ds`',
      'CREATE TABLE IF NOT EXISTS `ds`.`ns__orders` (',
      'SELECT COUNT(*) AS observed FROM `ds`.`ns__orders`',
      'CREATE SCHEMA IF NOT EXISTS `ds`',
      'DROP TABLE IF EXISTS `ds`.`ns__stg_*_delta`',
      'CREATE TABLE `ds`.`ns__stg_*_delta` (',
      'DROP TABLE IF EXISTS `ds`.`ns__stg_*_delta__dpone_wire`',
      'CREATE TABLE `ds`.`ns__stg_*_delta__dpone_wire` (',
      'load ds.ns__stg_*_delta__dpone_wire: 10 rows',
      'INSERT INTO `ds`.`ns__stg_*_delta` (`id`, `business_date`, `amount`, `status`, `updated_at`, `row_version`, `w…',
      'DROP TABLE IF EXISTS `ds`.`ns__stg_*_delta__dpone_wire`',
      'SELECT COUNT(*) AS staged_rows FROM `ds`.`ns__stg_*_delta`',
      'SELECT COUNT(*) AS observed FROM `ds`.`ns__orders`',
      '[new session] BEGIN TRANSACTION',
      '[session] MERGE INTO `ds`.`ns__orders` AS t',
      '[session] SELECT COUNT(*) AS observed FROM `ds`.`ns__stg_*_delta` AS s',
      '[session] SELECT COUNT(*) AS observed FROM `ds`.`ns__stg_*_delta` AS s',
      '[session] MERGE INTO `ds`.`__dpone__loads` AS t',
      '[session] COMMIT TRANSACTION',
      '[session] DROP TABLE IF EXISTS `ds`.`ns__stg_*_delta`',
    ]);
    const sessions = recorded.flatMap((entry) => entry.kind === 'query' && entry.options.connectionProperties ? entry.options.connectionProperties : []);
    expect(new Set(sessions.map((property) => `${property.key}=${property.value}`))).toEqual(new Set([`session_id=${SESSION}`]));
    const stateWrite = recorded.find((entry) => entry.kind === 'query' && entry.options.query.startsWith('MERGE INTO `ds`.`__dpone__loads`'));
    expect(stateWrite?.kind === 'query' && stateWrite.options.params).toEqual({ p1: 'orders', p2: stableJson(report.committedState), p3: report.loadId });
    expect(stateWrite?.kind === 'query' && stateWrite.options.types).toEqual({ p1: 'STRING', p2: 'STRING', p3: 'STRING' });
  });

  test('the load job appends NDJSON of canonical text to the STRING wire table, converted by the bind expressions', async () => {
    const { client, recorded } = fakeClient();
    await load('incremental_merge', client);
    const job = recorded.find((entry) => entry.kind === 'load');
    if (job?.kind !== 'load') throw new Error('no load job recorded');
    expect(job.metadata).toEqual({ sourceFormat: 'NEWLINE_DELIMITED_JSON', createDisposition: 'CREATE_NEVER', writeDisposition: 'WRITE_APPEND' });
    const columns = stagingSchema(FIXTURE.schema).columns;
    expect(Object.keys(job.rows[0] ?? {})).toEqual(columns.map((column) => column.name));
    expect(job.rows.every((row) => Object.values(row).every((value) => value === null || typeof value === 'string'))).toBe(true);
    const wireDdl = recorded.find((entry) => entry.kind === 'query' && /^CREATE TABLE `ds`\.`ns__stg_[0-9a-f]+_delta__dpone_wire`/.test(entry.options.query));
    expect(wireDdl?.kind === 'query' && wireDdl.options.query).toContain('`wide_bigquery_030_binary` STRING,');
    expect(wireDdl?.kind === 'query' && wireDdl.options.query).toContain('OPTIONS (expiration_timestamp = TIMESTAMP_ADD(CURRENT_TIMESTAMP(), INTERVAL 1 DAY))');
    const conversion = recorded.find((entry) => entry.kind === 'query' && entry.options.query.startsWith('INSERT INTO `ds`.`ns__stg_'));
    expect(conversion?.kind === 'query' && conversion.options.query).toContain('FROM_HEX(w.`wide_bigquery_030_binary`)');
    expect(conversion?.kind === 'query' && conversion.options.query).toContain('DATETIME(TIMESTAMP_MICROS(CAST(w.`updated_at` AS INT64)))');
  });

  test('full_refresh: the swap (DDL) runs before the transaction; reconcile and state run inside it', async () => {
    const { client, recorded } = fakeClient();
    await load('full_refresh', client);
    const lines = timeline(recorded);
    const swap = lines.findIndex((line) => line.startsWith('CREATE OR REPLACE TABLE `ds`.`ns__orders`'));
    const begin = lines.indexOf('[new session] BEGIN TRANSACTION');
    expect(swap).toBeGreaterThan(-1);
    expect(begin).toBeGreaterThan(swap);
    expect(lines.slice(begin + 1, begin + 3)).toEqual([
      '[session] SELECT COUNT(*) AS observed FROM `ds`.`ns__orders`',
      '[session] MERGE INTO `ds`.`__dpone__loads` AS t',
    ]);
    expect(lines[begin + 3]).toBe('[session] COMMIT TRANSACTION');
  });

  test('a failed reconcile rolls the session transaction back: no state write', async () => {
    const { client, recorded } = fakeClient(1);
    const error = await load('incremental_merge', client).then(() => null, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(LoadFailedError);
    expect((error as LoadFailedError).phase).toBe('reconcile');
    const lines = timeline(recorded);
    expect(lines.slice(lines.indexOf('[new session] BEGIN TRANSACTION'))).toEqual([
      '[new session] BEGIN TRANSACTION',
      '[session] MERGE INTO `ds`.`ns__orders` AS t',
      '[session] SELECT COUNT(*) AS observed FROM `ds`.`ns__stg_*_delta` AS s',
      '[session] SELECT COUNT(*) AS observed FROM `ds`.`ns__stg_*_delta` AS s',
      '[session] ROLLBACK TRANSACTION',
      '[session] DROP TABLE IF EXISTS `ds`.`ns__stg_*_delta`',
    ]);
  });
});
