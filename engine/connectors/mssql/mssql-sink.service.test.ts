import { afterAll, describe, expect, test } from 'vitest';
import type { StrategyName } from '../../strategies/index.ts';
import { reconcileFaultOutcome, seededSinkCase } from '../../../fixtures/connector-test-support.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import type { MssqlConnection } from '../../../fixtures/services/mssql-providers.ts';
import { MSSQL_COMPOSE_DEFAULTS, openMssqlDriver } from '../../../fixtures/services/mssql-providers.ts';
import { externalEndpoint } from '../../../fixtures/services/provider.ts';
import { dropMssqlSchema } from '../../../matrix/local/families/mssql.ts';
import { sourceFamily } from '../../../matrix/families.ts';
import { bulkInsert } from './mssql-bulk.ts';
import type { MssqlDriver } from './mssql-driver.ts';
import { MssqlSink } from './mssql-sink.ts';



/**
 * The SQL Server sink against a real server (`DPONE_IT_MSSQL_PORT_FORWARD`, e.g. the compose stack):
 * each strategy loads the fixture's delta into a seeded target and the target read back must pass
 * every quality check; a fault at reconcile rolls back target and state.
 */

const CAPABILITIES = sourceFamily('mssql').capabilities;

const ENDPOINT = externalEndpoint('MSSQL', process.env, MSSQL_COMPOSE_DEFAULTS);
const SERVER_FIXTURE = buildSourceFixture('mssql', { rows: 300, changeRatio: 0.2, deleteRatio: 0.05 });
const STRATEGIES: readonly StrategyName[] = ['incremental_merge', 'full_refresh', 'incremental_append', 'scd2', 'partition_replace'];
const SCHEMA_PREFIX = `dpone_it_${process.pid}`;

describe.skipIf(!ENDPOINT)(
  ENDPOINT ? 'MssqlSink on SQL Server (DPONE_IT_MSSQL_PORT_FORWARD)' : 'MssqlSink on SQL Server — skipped: DPONE_IT_MSSQL_PORT_FORWARD is not set (docker compose -f docker/docker-compose.integration.yml up -d mssql)',
  () => {
    const connection: MssqlConnection | undefined = ENDPOINT && { provider: 'external', ...ENDPOINT };
    const opened: { sink: MssqlSink; driver: MssqlDriver; schema: string }[] = [];

    async function sinkIn(schema: string): Promise<{ sink: MssqlSink; driver: MssqlDriver }> {
      if (!connection) throw new Error('no SQL Server endpoint');
      const driver = await openMssqlDriver(connection);
      const sink = new MssqlSink(driver, { schema });
      opened.push({ sink, driver, schema });
      return { sink, driver };
    }

    /** A target in `schema` as the previous load left it: target-before rows and the base cursor committed. */
    async function seeded(strategy: StrategyName, schema: string) {
      const { sink, driver } = await sinkIn(schema);
      const load = await seededSinkCase(SERVER_FIXTURE, CAPABILITIES, strategy, sink, `orders_${schema}`, (into, columns, rows) => bulkInsert(driver, sink.dialect, into, columns, rows));
      return { ...load, sink };
    }

    afterAll(async () => {
      for (const { sink, driver, schema } of opened) {
        await dropMssqlSchema(driver, schema);
        await driver.query({ sql: `DELETE FROM ${sink.dialect.qualified(sink.names().state)} WHERE [pipeline] = @p1`, params: [`orders_${schema}`] });
        await sink.close();
      }
    }, 60_000);

    test.each(STRATEGIES)('%s: the target read back passes every quality check', async (strategy) => {
      const load = await seeded(strategy, `${SCHEMA_PREFIX}_${strategy}`);
      const report = await load.load();
      expect(report.batches.every((batch) => batch.committed)).toBe(true);
      expect(await load.judge(report)).toEqual([]);
    }, 120_000);

    test('a fault at reconcile rolls back target and state; a rerun converges', async () => {
      const load = await seeded('incremental_merge', `${SCHEMA_PREFIX}_fault`);
      expect(await reconcileFaultOutcome(load, load.sink)).toEqual({ failedAt: 'reconcile', targetUnchanged: true, stateUnchanged: true, rerunFailures: [] });
    }, 120_000);
  },
);
