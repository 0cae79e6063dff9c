import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rowHash } from '../../schema/index.ts';
import type { ChangeRecord, RowPredicate } from '../../plan/index.ts';
import type { LoadState } from '../../state/index.ts';
import type { ChangeRead } from '../source.ts';
import { tableChecksum } from '../../../fixtures/checksum.ts';
import { memorySourceFor } from '../../../fixtures/scenario.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import { KafkaLocalBroker } from '../../../fixtures/services/kafka-local.ts';
import { embeddedKafkaUnavailableReason, openKafkaDriver } from '../../../fixtures/services/kafka-providers.ts';
import { sourceFamily } from '../../../matrix/families.ts';
import type { KafkaDriver } from './kafka-driver.ts';
import type { KafkaSource } from './kafka-source.ts';
import { seedKafkaSource } from './kafka-source.ts';

/**
 * The Kafka source against a real broker (the local KRaft broker, one for the file): the fixture's
 * base is produced as insert events and its delta as change events in commit order; every read
 * must equal the memory source's read of the same fixture.
 */

const unavailable = await embeddedKafkaUnavailableReason();
const FIXTURE = buildSourceFixture('kafka', { rows: 400, changeRatio: 0.2, deleteRatio: 0.05 });
const memory = memorySourceFor(FIXTURE, sourceFamily('kafka').capabilities);

const summary = (read: ChangeRead | readonly ChangeRecord[]) =>
  ('changes' in read ? read.changes : read).map((c) => [c.op, c.key, c.at, rowHash(c.row).hex]);

describe.skipIf(unavailable !== null)(
  unavailable === null ? 'KafkaSource on a local Kafka broker' : `KafkaSource on a local Kafka broker — skipped: ${unavailable}`,
  () => {
    let broker: KafkaLocalBroker | undefined;
    let driver: KafkaDriver;
    let source: KafkaSource;
    let base: LoadState = {};

    beforeAll(async () => {
      broker = await KafkaLocalBroker.start();
      driver = await openKafkaDriver({ bootstrapServers: broker.endpoint.bootstrapServers });
      source = await seedKafkaSource(driver, 'src.orders', FIXTURE, {
        asOf: FIXTURE.snapshotAt, afterBase: async (seeding) => { base = await seeding.headCursor(); },
      });
    }, 180_000);

    afterAll(async () => {
      await driver.close();
      await broker?.stop();
    }, 60_000);

    test('the base cursor is the offset after the base events', () => {
      expect(base).toEqual({ offsets: { 0: String(FIXTURE.before.length) } });
    });

    test('readSnapshot is the compacted view and equals the memory snapshot', async () => {
      const [read, mem] = await Promise.all([source.readSnapshot(), memory.readSnapshot()]);
      expect(read.rows).toEqual(mem.rows);
      expect(tableChecksum(read.rows)).toEqual(tableChecksum(FIXTURE.after));
      expect(read.asOf).toBe(FIXTURE.snapshotAt);
      expect(read.cursor).toEqual({ offsets: { 0: String(FIXTURE.before.length + FIXTURE.changes.length) } });
    });

    const filters: readonly [string, RowPredicate][] = [
      ['the fixture window', FIXTURE.window],
      ['in on business_date', { kind: 'in', column: 'business_date', values: ['2024-01-01', '1999-12-31'] }],
      ['an empty in list', { kind: 'in', column: 'id', values: [] }],
    ];

    test.each(filters)('readSnapshot filtered by %s equals the memory source', async (_name, filter) => {
      const [read, mem] = await Promise.all([source.readSnapshot(filter), memory.readSnapshot(filter)]);
      expect(read.rows).toEqual(mem.rows);
    });

    test('readChanges after the base cursor equals the memory source; nothing after its own cursor', async () => {
      const [read, mem] = await Promise.all([source.readChanges(base), memory.readChanges(memory.baseCursor())]);
      expect(summary(read)).toEqual(summary(mem));
      expect(read.changes.map((change) => change.position)).toEqual(FIXTURE.changes.map((_c, i) => `0:${FIXTURE.before.length + i}`));
      expect(read.cursor).toEqual(await source.headCursor());
      expect((await source.readChanges(read.cursor)).changes).toEqual([]);
    });

    test('without a cursor readChanges returns every event: base inserts, then the delta', async () => {
      const read = await source.readChanges({});
      expect(read.changes.length).toBe(FIXTURE.before.length + FIXTURE.changes.length);
      expect(summary(read.changes.slice(FIXTURE.before.length))).toEqual(summary(FIXTURE.changes));
    });

    test('acknowledge commits the cursor as the consumer group offsets', async () => {
      expect(await source.committedCursor()).toEqual({ offsets: {} });
      const read = await source.readChanges(base);
      await source.acknowledge(read.cursor);
      expect(await source.committedCursor()).toEqual(read.cursor);
    }, 30_000);

    test('xmin and cdc extraction are refused with the reason', async () => {
      await expect(source.readXmin()).rejects.toThrow(/does not support xmin extraction/);
      await expect(source.readCdc()).rejects.toThrow(/does not support cdc extraction/);
    });
  },
);
