import xxhash from 'xxhash-wasm';
import { encodeRow } from './canonical.ts';
import type { Row } from './table-schema.ts';

const hasher = await xxhash();
const memo = new WeakMap<Row, bigint>();
const encoder = new TextEncoder();
let buffer = new Uint8Array(1 << 16);

/** xxHash64 of the UTF-8 bytes of `text`, encoded into a reused buffer (much faster than h64(text)). */
function h64Utf8(text: string): bigint {
  if (text.length * 3 > buffer.length) buffer = new Uint8Array(text.length * 3);
  const { written } = encoder.encodeInto(text, buffer);
  return hasher.h64Raw(buffer.subarray(0, written));
}

/**
 * 64-bit xxHash of a row's canonical encoding. Rows are frozen, so the hash of a row object is
 * memoised: a row that an engine changes is necessarily a new array and is hashed afresh.
 */
export function rowHash(row: Row): bigint {
  let hash = memo.get(row);
  if (hash === undefined) {
    hash = h64Utf8(encodeRow(row));
    if (Object.isFrozen(row)) memo.set(row, hash);
  }
  return hash;
}

/** 16 lowercase hex digits, the printed form of 64-bit hashes and checksums. */
export function hex64(value: bigint): string {
  return value.toString(16).padStart(16, '0');
}

/** 64-bit xxHash of arbitrary text (load ids, event ids). */
export function hashText(text: string): bigint {
  return h64Utf8(text);
}
