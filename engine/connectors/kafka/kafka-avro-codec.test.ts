import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Row, TableSchema } from '../../schema/index.ts';
import { freezeRow } from '../../schema/index.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import { openSchemaRegistry } from '../../../fixtures/services/kafka-providers.ts';
import type { SchemaRegistryMock } from '../../../fixtures/services/schema-registry-mock.ts';
import { startSchemaRegistryMock } from '../../../fixtures/services/schema-registry-mock.ts';
import { SERVICES_INSTALL_HINT, servicePackagesInstalled } from '../../../fixtures/services/services-package.ts';
import type { SchemaRegistryShape } from './kafka-avro-codec.ts';
import { AvroRowCodec, avroRecordSchema, schemaRegistryRowCodecs, valueSubject } from './kafka-avro-codec.ts';
import { JsonRowCodec } from './kafka-codec.ts';

const installed = servicePackagesInstalled('@kafkajs/confluent-schema-registry');
const FIXTURE = buildSourceFixture('kafka', { rows: 200, changeRatio: 0.2, deleteRatio: 0.05 });

const EDGE_SCHEMA: TableSchema = {
  key: 'id',
  columns: [
    { name: 'id', family: 'integer', nullable: false },
    { name: 'far_future', family: 'timestamp', nullable: true },
    { name: 'ratio', family: 'float', nullable: true },
    { name: 'single', family: 'real', nullable: true },
    { name: 'amount', family: 'decimal', nullable: true },
    { name: 'big', family: 'uint64', nullable: true },
    { name: 'blob', family: 'varbinary', nullable: true },
    { name: 'note text', family: 'text', nullable: true },
  ],
};

const EDGE_ROWS: readonly Row[] = [
  freezeRow([1, 253402300799999999n, Number.NaN, Math.fround(0.1), '-0.5', '18446744073709551615', '00ff', 'quote " and \u001f control']),
  freezeRow([2, -62135596800000000n, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, '12345678901234567890.123', '0', '', '']),
  freezeRow([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, -0.25, null, null, null, null, 'emoji \u{1f600}']),
  freezeRow([4, null, null, null, null, null, null, null]),
];

test('the record schema: one nullable field per column, names made Avro-safe, exact types for numbers', () => {
  const fields = avroRecordSchema(EDGE_SCHEMA).fields;
  expect(fields.map((field) => field.name)).toEqual(['id', 'far_future', 'ratio', 'single', 'amount', 'big', 'blob', 'note_text']);
  expect(fields.map((field) => field.type)).toEqual([
    ['null', 'long', 'string'], ['null', { type: 'long', logicalType: 'timestamp-micros' }, 'string'], ['null', 'double'], ['null', 'float'],
    ['null', 'string'], ['null', 'string'], ['null', 'bytes'], ['null', 'string'],
  ]);
  expect(fields.every((field) => field.default === null)).toBe(true);
});

describe.skipIf(!installed)(
  installed ? 'AvroRowCodec against the Schema Registry mock' : `AvroRowCodec — skipped: @kafkajs/confluent-schema-registry is not installed (${SERVICES_INSTALL_HINT})`,
  () => {
    let mock: SchemaRegistryMock;
    let registry: SchemaRegistryShape;

    beforeAll(async () => {
      mock = await startSchemaRegistryMock();
      registry = await openSchemaRegistry(mock.url);
    });

    afterAll(async () => {
      await mock.stop();
    });

    test('every wide-row value of every type family round-trips exactly, framed with magic byte 0 and the registered id', async () => {
      const codec = schemaRegistryRowCodecs(registry)(FIXTURE.schema, 'wide.orders');
      await codec.prepareEncode?.();
      const id = await registry.getLatestSchemaId(valueSubject('wide.orders'));
      const rows = [...FIXTURE.before, ...FIXTURE.changes.map((change) => change.row)];
      const values = rows.map((row) => codec.encode(row) as Buffer);
      for (const value of values) {
        expect(value[0]).toBe(0);
        expect(value.readUInt32BE(1)).toBe(id);
      }
      // A reader of its own fetches the writer schema by id, as a consumer of the topic would.
      const reader = new AvroRowCodec(await openSchemaRegistry(mock.url), valueSubject('wide.orders'), FIXTURE.schema);
      await reader.prepareDecode(values);
      const decoded = values.map((value) => reader.decode(value));
      expect(decoded).toEqual(rows);
      expect(decoded.every((row) => Object.isFrozen(row))).toBe(true);
    });

    test('values beyond a long, non-finite floats, binary and odd names round-trip exactly', async () => {
      const codec = new AvroRowCodec(registry, 'edge-value', EDGE_SCHEMA);
      await codec.prepareEncode();
      for (const row of EDGE_ROWS) expect(codec.decode(codec.encode(row))).toEqual(row);
    });

    test('the same schema keeps its id; a reader decodes JSON values too, and a JSON codec names the registry for Avro ones', async () => {
      const first = new AvroRowCodec(registry, 'same-value', EDGE_SCHEMA);
      const second = new AvroRowCodec(registry, 'same-value', EDGE_SCHEMA);
      await first.prepareEncode();
      await second.prepareEncode();
      expect(second.schemaId).toBe(first.schemaId);

      const row = EDGE_ROWS[0] as Row;
      const json = new JsonRowCodec(EDGE_SCHEMA);
      await first.prepareDecode([Buffer.from(json.encode(row)), null]);
      expect(first.decode(Buffer.from(json.encode(row)))).toEqual(row);
      expect(() => json.decode(first.encode(row))).toThrow(/Schema Registry/);
    });

    test('encoding before registration and decoding an unfetched schema id fail, saying what to await', async () => {
      const codec = new AvroRowCodec(registry, 'unready-value', EDGE_SCHEMA);
      expect(() => codec.encode(EDGE_ROWS[3] as Row)).toThrow(/prepareEncode/);
      const writer = new AvroRowCodec(registry, 'other-value', { ...EDGE_SCHEMA, columns: EDGE_SCHEMA.columns.slice(0, 3) });
      await writer.prepareEncode();
      expect(() => codec.decode(writer.encode([1, null, null]))).toThrow(/prepareDecode/);
      // Fields the writer schema lacks read as null.
      const value = writer.encode([1, 5, 0.5]);
      await codec.prepareDecode([value]);
      expect(codec.decode(value)).toEqual([1, 5, 0.5, null, null, null, null, null]);
    });
  },
);
