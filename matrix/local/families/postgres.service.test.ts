import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { StrategyName } from '../../../engine/strategies/index.ts';
import { loadHarnessCase } from '../../../fixtures/connector-test-support.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import type { SourceFixture } from '../../../fixtures/source-fixture.ts';
import type { PostgresConnection } from '../../../fixtures/services/postgres-embedded.ts';
import { embeddedPostgresInstalled } from '../../../fixtures/services/postgres-embedded.ts';
import { openPostgresDriver, POSTGRES_PROVIDERS } from '../../../fixtures/services/postgres-providers.ts';
import type { ServiceHandle } from '../../../fixtures/services/provider.ts';
import type { SinkHarness, SourceHarness } from '../family-harness.ts';
import { postgresSinkHarness, postgresSourceHarness } from './postgres.ts';
import { restApiSourceHarness } from './rest-api.ts';

/**
 * The local-mode harnesses end to end on embedded PostgreSQL 18: a source seeded on the server (or
 * the REST mock), runLoad into a seeded Postgres sink, and the target read back must pass every
 * quality check. Releasing a case leaves neither its schemas nor its replication slot behind.
 */

const installed = embeddedPostgresInstalled();
const PG_FIXTURE = buildSourceFixture('postgres', { rows: 600, changeRatio: 0.2, deleteRatio: 0.05 });
const REST_FIXTURE = buildSourceFixture('rest_api', { rows: 600, changeRatio: 0.2, deleteRatio: 0.05 });
const STRATEGIES: readonly StrategyName[] = ['incremental_merge', 'xmin', 'cdc', 'scd2', 'snapshot_diff'];

let handle: ServiceHandle<PostgresConnection> | undefined;
let postgresSource: SourceHarness;
let postgresSink: SinkHarness;

/** Loads `fixture` from a source harness into a Postgres sink harness; returns the failed checks. */
async function loadCase(sourceHarness: SourceHarness, fixture: SourceFixture, strategyName: StrategyName, ns: string) {
  const seededSource = await sourceHarness.seedSource(fixture, `${ns}_src`);
  try {
    return await loadHarnessCase({
      fixture, strategy: strategyName, sinkKind: 'relational', source: seededSource.source, baseCursor: seededSource.baseCursor,
      sinkHarness: postgresSink, ns: `${ns}_dst`,
    });
  } finally {
    await seededSource.release();
  }
}

/** Schemas and replication slots of a case still on the server. */
async function leftovers(ns: string): Promise<string[]> {
  if (!handle) throw new Error('PostgreSQL is not running');
  const driver = await openPostgresDriver(handle.connection, { max: 1 });
  try {
    const rows = await driver.query({
      sql: 'SELECT nspname FROM pg_namespace WHERE nspname LIKE $1 UNION ALL SELECT slot_name::text FROM pg_replication_slots WHERE slot_name LIKE $2',
      params: [`%${ns}%`, `%${ns}%`],
    });
    return rows.map((row) => String(row[0]));
  } finally {
    await driver.close();
  }
}

describe.skipIf(!installed)(
  installed ? 'Postgres and REST harnesses on embedded PostgreSQL 18' : 'Postgres and REST harnesses — skipped: embedded PostgreSQL not installed: run pnpm services:install',
  () => {
    beforeAll(async () => {
      const embedded = POSTGRES_PROVIDERS.find((provider) => provider.kind === 'embedded');
      if (!embedded) throw new Error('no embedded PostgreSQL provider');
      handle = await embedded.start({});
      postgresSource = postgresSourceHarness(handle);
      postgresSink = postgresSinkHarness(handle);
    }, 120_000);

    afterAll(async () => {
      await postgresSource.close();
      await postgresSink.close();
      await handle?.stop();
    }, 60_000);

    test.each(STRATEGIES)('postgres → postgres %s passes every quality check and releases its schemas and slot', async (strategy) => {
      const ns = `pg_${strategy}`;
      expect(await loadCase(postgresSource, PG_FIXTURE, strategy, ns)).toEqual([]);
      expect(await leftovers(ns)).toEqual([]);
    }, 120_000);

    test('rest_api → postgres incremental_merge passes every quality check', async () => {
      const rest = restApiSourceHarness();
      try {
        expect(await loadCase(rest, REST_FIXTURE, 'incremental_merge', 'rest_merge')).toEqual([]);
        expect(await leftovers('rest_merge')).toEqual([]);
      } finally {
        await rest.close();
      }
    }, 120_000);
  },
);
