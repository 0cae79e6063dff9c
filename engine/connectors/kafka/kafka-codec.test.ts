import { describe, expect, test } from 'vitest';
import type { Row, TableSchema } from '../../schema/index.ts';
import { freezeRow } from '../../schema/index.ts';
import { buildSourceFixture } from '../../../fixtures/source-fixture.ts';
import { JsonRowCodec, keyFromMessage, messageKey } from './kafka-codec.ts';

const FIXTURE = buildSourceFixture('kafka', { rows: 200, changeRatio: 0.2, deleteRatio: 0.05 });

const EDGE_SCHEMA: TableSchema = {
  key: 'id',
  columns: [
    { name: 'id', family: 'integer', nullable: false },
    { name: 'far_future', family: 'timestamp', nullable: true },
    { name: 'ratio', family: 'float', nullable: true },
    { name: 'amount', family: 'decimal', nullable: true },
    { name: 'payload', family: 'json', nullable: true },
    { name: 'note', family: 'text', nullable: true },
  ],
};

describe('JsonRowCodec', () => {
  test('every wide-row value of every type family round-trips exactly', () => {
    const codec = new JsonRowCodec(FIXTURE.schema);
    const rows = [...FIXTURE.before, ...FIXTURE.changes.map((change) => change.row)];
    const decoded = rows.map((row) => codec.decode(Buffer.from(codec.encode(row))));
    expect(decoded).toEqual(rows);
    expect(decoded.every((row) => Object.isFrozen(row))).toBe(true);
  });

  test('values JSON numbers cannot hold: timestamps beyond 2^53 µs and non-finite floats', () => {
    const codec = new JsonRowCodec(EDGE_SCHEMA);
    const rows: Row[] = [
      freezeRow([1, 253402300799999999n, Number.NaN, '-0.5', '{"a":[1,2]}', 'quote " and \u001f control']),
      freezeRow([2, -62135596800000000n, Number.POSITIVE_INFINITY, '12345678901234567890.123', null, null]),
      freezeRow([3, 1_700_000_000_000_000, Number.NEGATIVE_INFINITY, null, null, '']),
      freezeRow([4, null, -0.25, '0', '[]', 'emoji \u{1f600}, lone \ud800 surrogate, back\\slash']),
    ];
    for (const row of rows) {
      const text = codec.encode(row);
      expect(JSON.parse(text)).toBeTypeOf('object');
      expect(codec.decode(Buffer.from(text))).toEqual(row);
    }
  });

  test('a field the object leaves out reads as null; a value that is not an object is rejected', () => {
    const codec = new JsonRowCodec(EDGE_SCHEMA);
    expect(codec.decode(Buffer.from('{"id":7,"note":"x"}'))).toEqual([7, null, null, null, null, 'x']);
    expect(() => codec.decode(Buffer.from('[1,2]'))).toThrow(/not an object/);
  });
});

test('message keys come back as the key column type', () => {
  expect(keyFromMessage(EDGE_SCHEMA, messageKey(42))).toBe(42);
  expect(keyFromMessage({ key: 'code', columns: [{ name: 'code', family: 'varchar', nullable: false }] }, messageKey('A-1'))).toBe('A-1');
  expect(() => keyFromMessage(EDGE_SCHEMA, 'abc')).toThrow(/safe integer/);
});
