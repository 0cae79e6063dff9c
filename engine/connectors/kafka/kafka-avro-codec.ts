import type { CanonicalValue, ColumnDef, Row, TableSchema, TypeFamily } from '../../schema/index.ts';
import { canonicalKind, freezeRow } from '../../schema/index.ts';
import type { KafkaRowCodec, KafkaRowCodecFactory } from './kafka-codec.ts';
import { canonicalFieldValue, CONFLUENT_MAGIC_BYTE, JsonRowCodec } from './kafka-codec.ts';

/** An Avro type as the registry client hands it out (an avsc `Type`). */
export interface AvroTypeShape {
  toBuffer(value: unknown): Buffer;
  fromBuffer(buffer: Buffer): unknown;
}

/** The part of a `@kafkajs/confluent-schema-registry` `SchemaRegistry` the Kafka connectors use. */
export interface SchemaRegistryShape {
  register(schema: { type: 'AVRO'; schema: string }, options: { subject: string }): Promise<{ id: number }>;
  /** The parsed schema of a registered id (cached by the client). */
  getSchema(id: number): Promise<AvroTypeShape>;
  getLatestSchemaId(subject: string): Promise<number>;
}

type AvroPrimitive = 'boolean' | 'long' | 'float' | 'double' | 'bytes' | 'string';
type AvroBranch = AvroPrimitive | { readonly type: 'long'; readonly logicalType: 'timestamp-micros' | 'time-micros' };

export interface AvroField {
  readonly name: string;
  readonly type: readonly ['null', ...AvroBranch[]];
  readonly default: null;
  /** The column's type family, for readers that want more than the Avro type. */
  readonly 'dpone.family': TypeFamily;
}

export interface AvroRecordSchema {
  readonly type: 'record';
  readonly name: string;
  readonly namespace: string;
  readonly fields: readonly AvroField[];
}

/** How a column's canonical value is written as its Avro field. */
type FieldKind = 'as_is' | 'integer' | 'bytes';

/** Largest magnitude avsc writes as a `long` (it keeps 2 below 2^53 as a precision guard). */
const AVSC_MAX_LONG = 9007199254740990;
const TIMESTAMP_FAMILIES: ReadonlySet<TypeFamily> = new Set<TypeFamily>(['timestamp', 'timestamptz', 'datetime', 'smalldatetime', 'datetime2', 'datetimeoffset']);
const BINARY_FAMILIES: ReadonlySet<TypeFamily> = new Set<TypeFamily>(['binary', 'varbinary', 'rowversion']);
const HEX = /^(?:[0-9a-f]{2})*$/;
/** Schema id after the magic byte: the Confluent wire format's 5-byte header. */
const HEADER_BYTES = 5;

/** The subject a topic's value schema is registered under (Confluent's `TopicNameStrategy`). */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

/**
 * The branches of a column's nullable union, chosen so that every canonical value round-trips
 * exactly: integer families and times are `long`, or their decimal text when avsc cannot write the
 * value as a long (timestamps beyond ±2^53 µs are bigints); floats are `float`/`double` (NaN and
 * infinities included); binary is `bytes`; exact numerics (64-bit integers, decimals) and every
 * other family are their canonical text.
 */
function fieldType(family: TypeFamily): { branches: AvroBranch[]; kind: FieldKind } {
  if (family === 'boolean') return { branches: ['boolean'], kind: 'as_is' };
  if (family === 'real') return { branches: ['float'], kind: 'as_is' };
  if (family === 'float') return { branches: ['double'], kind: 'as_is' };
  if (BINARY_FAMILIES.has(family)) return { branches: ['bytes'], kind: 'bytes' };
  if (canonicalKind(family) !== 'number') return { branches: ['string'], kind: 'as_is' };
  const long: AvroBranch = TIMESTAMP_FAMILIES.has(family) ? { type: 'long', logicalType: 'timestamp-micros' } : family === 'time' ? { type: 'long', logicalType: 'time-micros' } : 'long';
  return { branches: [long, 'string'], kind: 'integer' };
}

/** Avro names are `[A-Za-z_][A-Za-z0-9_]*`: other characters become `_`, clashes get the column's position. */
function avroFieldNames(columns: readonly ColumnDef[]): string[] {
  const used = new Set<string>();
  return columns.map((column, index) => {
    let name = column.name.replace(/[^A-Za-z0-9_]/g, '_').replace(/^(?=\d)/, '_') || '_';
    if (used.has(name)) name = `${name}_${index}`;
    used.add(name);
    return name;
  });
}

/** The Avro record schema of rows of `schema`: one field per column, in order, each a union with null (default null). */
export function avroRecordSchema(schema: TableSchema): AvroRecordSchema {
  const names = avroFieldNames(schema.columns);
  return {
    type: 'record', name: 'Row', namespace: 'dpone',
    fields: schema.columns.map((column, index) => ({
      name: names[index] as string, type: ['null', ...fieldType(column.family).branches], default: null, 'dpone.family': column.family,
    })),
  };
}

function avroValue(kind: FieldKind, value: CanonicalValue): unknown {
  if (value === null) return null;
  switch (kind) {
    case 'integer':
      return typeof value === 'number' && Math.abs(value) <= AVSC_MAX_LONG ? value : String(value);
    case 'bytes':
      if (typeof value !== 'string' || !HEX.test(value)) throw new Error(`binary value ${String(value)} is not canonical hex`);
      return Buffer.from(value, 'hex');
    default:
      return value;
  }
}

/** The schema id of a value in the Confluent wire format, or undefined for any other value (JSON). */
function schemaIdOf(value: Buffer): number | undefined {
  return value.length >= HEADER_BYTES && value[0] === CONFLUENT_MAGIC_BYTE ? value.readUInt32BE(1) : undefined;
}

/**
 * Rows as Avro records in the Confluent wire format: magic byte 0, the 4-byte schema id, the Avro
 * binary of the record. The record schema (`avroRecordSchema`) is registered under `subject` by
 * `prepareEncode`. Decoding goes by the first byte, so a topic reads whichever way it was written:
 * a framed value with the schema it names (fetched by `prepareDecode`, fields matched by name, a
 * missing field null), anything else as JSON. Every field runs through `normalizeValue` of its
 * column's family, so every canonical value round-trips exactly.
 */
export class AvroRowCodec implements KafkaRowCodec {
  readonly avroSchema: AvroRecordSchema;
  private readonly kinds: readonly FieldKind[];
  private readonly names: readonly string[];
  private readonly json: JsonRowCodec;
  private readonly readers = new Map<number, AvroTypeShape>();
  private registering?: Promise<void>;
  private writer?: { readonly header: Buffer; readonly type: AvroTypeShape };

  constructor(private readonly registry: SchemaRegistryShape, readonly subject: string, private readonly schema: TableSchema) {
    this.avroSchema = avroRecordSchema(schema);
    this.kinds = schema.columns.map((column) => fieldType(column.family).kind);
    this.names = this.avroSchema.fields.map((field) => field.name);
    this.json = new JsonRowCodec(schema);
  }

  /** The id the record schema is registered under (after `prepareEncode`). */
  get schemaId(): number | undefined {
    return this.writer?.header.readUInt32BE(1);
  }

  prepareEncode(): Promise<void> {
    this.registering ??= this.register().catch((error: unknown) => {
      this.registering = undefined;
      throw error;
    });
    return this.registering;
  }

  async prepareDecode(values: readonly (Buffer | null)[]): Promise<void> {
    const missing = new Set<number>();
    for (const value of values) {
      const id = value === null ? undefined : schemaIdOf(value);
      if (id !== undefined && !this.readers.has(id)) missing.add(id);
    }
    for (const id of missing) this.readers.set(id, await this.avroType(id));
  }

  encode(row: Row): Buffer {
    if (!this.writer) throw new Error(`the Avro schema of ${this.subject} is not registered yet: await prepareEncode() first`);
    const record: Record<string, unknown> = {};
    for (let i = 0; i < this.names.length; i++) record[this.names[i] as string] = avroValue(this.kinds[i] as FieldKind, row[i] ?? null);
    return Buffer.concat([this.writer.header, this.writer.type.toBuffer(record)]);
  }

  decode(value: Buffer): Row {
    const id = schemaIdOf(value);
    if (id === undefined) return this.json.decode(value);
    const reader = this.readers.get(id);
    if (!reader) throw new Error(`kafka value of ${this.subject} has schema id ${id}, which was not fetched: await prepareDecode() first`);
    const record = reader.fromBuffer(value.subarray(HEADER_BYTES)) as Record<string, unknown>;
    return freezeRow(this.schema.columns.map((column, index) => canonicalFieldValue(column, record[this.names[index] as string] ?? null)));
  }

  private async register(): Promise<void> {
    const { id } = await this.registry.register({ type: 'AVRO', schema: JSON.stringify(this.avroSchema) }, { subject: this.subject });
    const type = await this.avroType(id);
    this.readers.set(id, type);
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt8(CONFLUENT_MAGIC_BYTE, 0);
    header.writeUInt32BE(id, 1);
    this.writer = { header, type };
  }

  private async avroType(id: number): Promise<AvroTypeShape> {
    const type = await this.registry.getSchema(id);
    if (typeof type.fromBuffer !== 'function' || typeof type.toBuffer !== 'function') throw new Error(`schema ${id} of ${this.subject} is not an Avro schema`);
    return type;
  }
}

/** Avro values through `registry` for every topic, each registered under `<topic>-value`. */
export function schemaRegistryRowCodecs(registry: SchemaRegistryShape): KafkaRowCodecFactory {
  return (schema, topic) => new AvroRowCodec(registry, valueSubject(topic), schema);
}
