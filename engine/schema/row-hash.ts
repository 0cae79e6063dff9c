import xxhash from 'xxhash-wasm';
import { encodeRow } from './canonical.ts';
import type { CanonicalValue, Row } from './table-schema.ts';

const hasher = await xxhash();
const encoder = new TextEncoder();
let buffer = new Uint8Array(1 << 16);

/**
 * A 64-bit hash held as two unsigned 32-bit halves. Table checksums add halves as plain numbers
 * (exact up to 2^21 rows), which avoids allocating a BigInt per row.
 */
export interface Hash64 {
  readonly hi: number;
  readonly lo: number;
  /** 16 lowercase hex digits (kept with the hash: row hashes are printed and compared often). */
  readonly hex: string;
}

const TWO_32 = 0x1_0000_0000;

/** xxHash64 of the UTF-8 bytes of `text`, encoded into a reused buffer (much faster than h64(text)). */
function h64Utf8(text: string): Hash64 {
  if (text.length * 3 > buffer.length) buffer = new Uint8Array(text.length * 3);
  const { written } = encoder.encodeInto(text, buffer);
  return hash64(hasher.h64Raw(buffer.subarray(0, written)));
}

function hash64(value: bigint): Hash64 {
  return { hi: Number(value >> 32n), lo: Number(value & 0xffff_ffffn), hex: value.toString(16).padStart(16, '0') };
}

export function sameHash(a: Hash64, b: Hash64): boolean {
  return a.hi === b.hi && a.lo === b.lo;
}

/** Order-independent accumulator of 64-bit hashes: their sum modulo 2^64. */
export class HashSum {
  private hi = 0;
  private lo = 0;

  add(hash: Hash64): void {
    this.hi += hash.hi;
    this.lo += hash.lo;
  }

  /** 16 hex digits of the sum modulo 2^64. */
  hex(): string {
    const carry = Math.floor(this.lo / TWO_32);
    const lo = this.lo - carry * TWO_32;
    const hi = (this.hi + carry) % TWO_32;
    return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
  }
}

/** Rows built by `extendRow`, mapped to the data row they extend. */
const extendedFrom = new WeakMap<Row, Row>();
/** Memoised hashes of rows hashed whole, and per data width of rows with metadata columns. */
const wholeMemo = new WeakMap<Row, Hash64>();
const composedMemo = new Map<number, WeakMap<Row, Hash64>>();

/**
 * Extended rows by data row: the one extension seen so far, or a map by metadata values once a data
 * row has several (most have one, and a Map per row would cost more than the row's own array).
 */
let interned = new WeakMap<Row, Row | Map<string, Row>>();

/**
 * Forgets interned rows (they stay valid; later extensions just become new objects). Long runs call
 * this between groups of work so interned rows do not outlive their use.
 */
export function releaseInternedRows(): void {
  interned = new WeakMap();
}

/**
 * A data row followed by metadata values (`__dpone__op`, SCD2 validity, …), frozen. Rows are
 * values: extending the same data row with the same metadata returns the same object, so its hash
 * and statistics are computed once however many targets hold it. The link to the data row lets
 * `rowHash` reuse the data row's memoised hash.
 */
export function extendRow(data: Row, extra: readonly CanonicalValue[]): Row {
  const known = interned.get(data);
  if (known && !(known instanceof Map) && hasExtras(known, data.length, extra)) return known;
  const key = JSON.stringify(extra);
  const extensionKey = (row: Row) => JSON.stringify(row.slice(data.length));
  if (known instanceof Map) {
    const row = known.get(key);
    if (row) return row;
  }
  // concat allocates the exact length (a spread grows the array by pushing and keeps slack).
  const row = Object.freeze(data.concat(extra));
  extendedFrom.set(row, data);
  if (known instanceof Map) known.set(key, row);
  else if (known) interned.set(data, new Map([[extensionKey(known), known], [key, row]]));
  else interned.set(data, row);
  return row;
}

/** The first `width` columns of a row as a frozen row (the extended row's data row when known). */
export function dataRowOf(row: Row, width: number): Row {
  if (width >= row.length) return row;
  const base = extendedFrom.get(row);
  return base && base.length === width ? base : Object.freeze(row.slice(0, width));
}

/** True when `row` is `width` data columns followed by exactly `extra`. */
function hasExtras(row: Row, width: number, extra: readonly CanonicalValue[]): boolean {
  if (row.length !== width + extra.length) return false;
  for (let i = 0; i < extra.length; i++) if (!Object.is(row[width + i], extra[i])) return false;
  return true;
}

function computeHash(row: Row, dataWidth: number): Hash64 {
  if (dataWidth >= row.length) return h64Utf8(encodeRow(row));
  const dataHash = rowHash(dataRowOf(row, dataWidth));
  return h64Utf8(`${dataHash.hex}\u001e${encodeRow(row.slice(dataWidth))}`);
}

/**
 * 64-bit hash of a row's canonical values. The first `dataWidth` columns (default: all) are the
 * source data, hashed as xxHash64 of their canonical encoding; when metadata columns follow, the row
 * hash is xxHash64 of the data hash and the encoded metadata. Every caller — fixture, in-memory
 * target, rows read back from a sink — passes the same width for the same table. Memoised for
 * frozen rows: a row that changes is necessarily a new array.
 */
export function rowHash(row: Row, dataWidth: number = row.length): Hash64 {
  const width = Math.min(dataWidth, row.length);
  let byRow = wholeMemo;
  if (width < row.length) {
    byRow = composedMemo.get(width) ?? new WeakMap();
    composedMemo.set(width, byRow);
  }
  let hash = byRow.get(row);
  if (hash === undefined) {
    hash = computeHash(row, width);
    if (Object.isFrozen(row)) byRow.set(row, hash);
  }
  return hash;
}

/** 16 hex digits of the 64-bit xxHash of arbitrary text (load ids, event ids). */
export function hashText(text: string): string {
  return h64Utf8(text).hex;
}
