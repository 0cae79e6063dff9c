import type { CanonicalValue, ColumnDef, Row, TableSchema } from '../../schema/index.ts';
import { canonicalKind, columnIndex, freezeRow, normalizeValue } from '../../schema/index.ts';
import type { KeyValue } from '../../plan/index.ts';

/** Message headers the Kafka connectors write and read. */
export const KAFKA_HEADERS = {
  /** Change operation: `I`, `U` or `D`. */
  op: 'dpone.op',
  /** Deterministic event id (`<batch>/<key>/<rank>`): readers dedupe reruns on it. */
  eventId: 'dpone.event_id',
  /** Change time of a source event, UTC microseconds as decimal text. */
  at: 'dpone.at',
} as const;

/**
 * Turns rows into message values and back; `null` (a tombstone) never reaches a codec. Encoding
 * and decoding are synchronous (they are the hot path of a load); a codec that needs a service
 * first (a schema registry) does that work in `prepareEncode` / `prepareDecode`, which callers
 * await before encoding or decoding a batch.
 */
export interface KafkaRowCodec {
  /** Makes `encode` ready (e.g. registers the writer schema); idempotent. */
  prepareEncode?(): Promise<void>;
  /** Makes `decode` ready for `values` (e.g. fetches the schemas they were written with). */
  prepareDecode?(values: readonly (Buffer | null)[]): Promise<void>;
  encode(row: Row): string | Buffer;
  decode(value: Buffer): Row;
}

/** The codec of the values of `topic`, whose rows have `schema`: how a sink gets one per target. */
export type KafkaRowCodecFactory = (schema: TableSchema, topic: string) => KafkaRowCodec;

/** First byte of a value in the Confluent wire format (then a 4-byte schema id); JSON never starts with it. */
export const CONFLUENT_MAGIC_BYTE = 0;

/**
 * Text JSON writes as it is between quotes: no quote, backslash, control character or surrogate
 * (`JSON.stringify` escapes a lone surrogate, which UTF-8 could not carry).
 */
// eslint-disable-next-line no-control-regex
const PLAIN_TEXT = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/**
 * JSON text of one value: JSON numbers only for exact doubles. 64-bit timestamps beyond ±2^53 µs
 * (bigint) and non-finite floats, which JSON cannot hold, are written as strings; decimals, 64-bit
 * integers and the rest are canonical strings already. Plain strings skip `JSON.stringify`.
 */
function jsonValue(value: CanonicalValue): string {
  switch (typeof value) {
    case 'string': return PLAIN_TEXT.test(value) ? `"${value}"` : JSON.stringify(value);
    case 'number': return Number.isFinite(value) ? String(value) : `"${String(value)}"`;
    case 'bigint': return `"${value.toString()}"`;
    case 'boolean': return value ? 'true' : 'false';
    default: return 'null';
  }
}

/**
 * A field value read back (JSON or Avro) as its column's canonical value. Integer text in a number
 * family's field is a value its number type cannot hold exactly (a bigint timestamp); a NaN float
 * goes in as its text, the only NaN `normalizeValue` takes.
 */
export function canonicalFieldValue(column: ColumnDef, raw: unknown): CanonicalValue {
  if (typeof raw === 'string' && canonicalKind(column.family) === 'number' && /^-?\d+$/.test(raw)) {
    return normalizeValue(column.family, BigInt(raw));
  }
  return normalizeValue(column.family, raw);
}

/**
 * Rows as JSON objects keyed by column name, in column order. Every canonical value round-trips
 * exactly: decoding runs each field through `normalizeValue` of its column's family. A field the
 * object lacks reads as null (producers may leave nulls out).
 */
export class JsonRowCodec implements KafkaRowCodec {
  private readonly prefixes: readonly string[];

  constructor(private readonly schema: TableSchema) {
    // `{"name":` and `,"name":` precomputed: encoding is the hot path of a load.
    this.prefixes = schema.columns.map((column, index) => `${index === 0 ? '{' : ','}${JSON.stringify(column.name)}:`);
  }

  encode(row: Row): string {
    let text = '';
    for (let i = 0; i < this.prefixes.length; i++) text += (this.prefixes[i] as string) + jsonValue(row[i] ?? null);
    return `${text}}`;
  }

  decode(value: Buffer): Row {
    if (value[0] === CONFLUENT_MAGIC_BYTE) throw new Error('kafka value is in the Schema Registry wire format (Avro): configure the Schema Registry to read it');
    const object = JSON.parse(value.toString('utf8')) as Record<string, unknown>;
    if (object === null || typeof object !== 'object' || Array.isArray(object)) throw new Error(`kafka JSON value is not an object: ${value.toString('utf8').slice(0, 80)}`);
    return freezeRow(this.schema.columns.map((column) => canonicalFieldValue(column, object[column.name] ?? null)));
  }
}

/** JSON values (`JsonRowCodec`) for every topic: the codecs when no Schema Registry is configured. */
export const jsonRowCodecs: KafkaRowCodecFactory = (schema) => new JsonRowCodec(schema);

/** The message key of a business key (its decimal or text form). */
export function messageKey(key: KeyValue): string {
  return String(key);
}

/** A message key read back as the schema's key value (an integer key comes back as a number). */
export function keyFromMessage(schema: TableSchema, key: string): KeyValue {
  const column = schema.columns[columnIndex(schema, schema.key)] as ColumnDef;
  const value = normalizeValue(column.family, key);
  if (typeof value !== 'number' && typeof value !== 'string') throw new Error(`kafka key ${key} is not a ${column.family} key`);
  return value;
}
