import type { CanonicalValue, Row } from './table-schema.ts';
import type { TypeFamily } from './type-family.ts';

/**
 * Canonical values: one normal form per type family, so that a value read back from any sink hashes
 * like the fixture value it came from.
 *
 * - integers up to 2^53 and times are JS numbers: timestamps are UTC microseconds since the epoch,
 *   `time` is microseconds since midnight, `interval` is microseconds;
 * - 64-bit integers and decimals are exact strings without superfluous zeros (`"12.5"`, `"-3"`);
 * - binary is lowercase hex; JSON-like values are JSON text with sorted keys;
 * - char/nchar drop the right padding a fixed-width column adds.
 */
export function normalizeValue(family: TypeFamily, raw: unknown): CanonicalValue {
  if (raw === null || raw === undefined) return null;
  switch (family) {
    case 'boolean':
      return normalizeBoolean(raw);
    case 'tinyint': case 'smallint': case 'integer': case 'unsigned_integer': case 'oid': case 'nullable':
      return toSafeInteger(raw, family);
    case 'bigint': case 'uint64':
      return normalizeIntegerString(String(raw));
    case 'decimal': case 'numeric': case 'money': case 'smallmoney':
      return normalizeDecimal(raw);
    case 'real':
      return Math.fround(toFloat(raw, family));
    case 'float':
      return toFloat(raw, family);
    case 'date':
      return normalizeDate(raw);
    case 'time':
      return typeof raw === 'number' ? raw : parseTimeOfDay(String(raw));
    case 'timestamp': case 'timestamptz': case 'datetime': case 'smalldatetime': case 'datetime2':
    case 'datetimeoffset':
      return normalizeTimestamp(raw);
    case 'interval':
      return toSafeInteger(raw, family);
    case 'char': case 'nchar':
      return String(raw).replace(/ +$/, '');
    case 'uuid': case 'ipv6': case 'macaddr':
      return String(raw).toLowerCase();
    case 'pg_lsn':
      return String(raw).toUpperCase();
    case 'binary': case 'varbinary': case 'rowversion':
      return normalizeBinary(raw);
    case 'json': case 'jsonb': case 'map': case 'tuple': case 'nested': case 'composite':
    case 'int_array': case 'text_array':
      return stableJson(typeof raw === 'string' ? (JSON.parse(raw) as unknown) : raw);
    case 'bit':
      return typeof raw === 'boolean' ? (raw ? '1' : '0') : String(raw);
    case 'geometry': case 'geography':
      return String(raw).toUpperCase().replace(/\s*\(\s*/g, '(').replace(/\s*\)/g, ')').replace(/\s*,\s*/g, ',').replace(/\s+/g, ' ');
    case 'xml':
      return String(raw).trim();
    default:
      return String(raw);
  }
}

function normalizeBoolean(raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  if (raw === 1 || raw === '1' || raw === 't' || raw === 'true') return true;
  if (raw === 0 || raw === '0' || raw === 'f' || raw === 'false') return false;
  throw new Error(`not a boolean value: ${String(raw)}`);
}

function toSafeInteger(raw: unknown, family: TypeFamily): number {
  // Number('') is 0 and Number('0x10') 16: only plain decimal integer text is accepted.
  if (typeof raw === 'string' && !/^\s*[+-]?\d+\s*$/.test(raw)) throw new Error(`${family} value ${raw} is not a safe integer`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${family} value ${String(raw)} is not a safe integer`);
  return value;
}

/** Number from a driver value, rejecting what is not a number (NaN only as a float NaN or the literal "NaN"). */
function toFloat(raw: unknown, family: TypeFamily): number {
  const value = Number(raw);
  const text = typeof raw === 'string' ? raw.trim() : undefined;
  if (text === '' || (Number.isNaN(value) && typeof raw !== 'number' && text !== 'NaN')) throw new Error(`${family} value "${String(raw)}" is not a number`);
  return value;
}

function normalizeIntegerString(text: string): string {
  const match = /^([+-]?)0*(\d+)$/.exec(text.trim());
  if (!match) throw new Error(`not an integer: ${text}`);
  const digits = match[2] ?? '0';
  return match[1] === '-' && digits !== '0' ? `-${digits}` : digits;
}

/** Exact decimal text: no exponent, no leading zeros, no trailing fraction zeros. */
export function normalizeDecimal(raw: unknown): string {
  const text = String(raw).trim().replace(/[$,]/g, '');
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match || !/\d/.test(text)) throw new Error(`not a plain decimal: ${String(raw)}`);
  const whole = (match[2] ?? '').replace(/^0+(?=\d)/, '') || '0';
  const fraction = (match[3] ?? '').replace(/0+$/, '');
  const body = fraction ? `${whole}.${fraction}` : whole;
  return match[1] === '-' && body !== '0' ? `-${body}` : body;
}

function normalizeDate(raw: unknown): string {
  if (raw instanceof Date) {
    if (Number.isNaN(raw.getTime())) throw new Error('not a date: Invalid Date');
    return raw.toISOString().slice(0, 10);
  }
  const text = String(raw);
  const day = text.slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || !isCalendarDay(day)) throw new Error(`not an ISO date: ${text}`);
  return day;
}

/** True for a real `YYYY-MM-DD` day (no month 13, no 30 February). */
function isCalendarDay(day: string): boolean {
  const millis = Date.parse(`${day}T00:00:00Z`);
  return !Number.isNaN(millis) && new Date(millis).toISOString().slice(0, 10) === day;
}

/** Parses `HH:MM:SS[.ffffff]` into microseconds since midnight. */
export function parseTimeOfDay(text: string): number {
  const match = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?/.exec(text);
  if (!match || Number(match[1]) > 23 || Number(match[2]) > 59 || Number(match[3]) > 59) throw new Error(`not a time of day: ${text}`);
  const micros = Number(((match[4] ?? '') + '000000').slice(0, 6));
  return ((Number(match[1]) * 60 + Number(match[2])) * 60 + Number(match[3])) * 1_000_000 + micros;
}

/** A number when exact, a bigint beyond ±2^53 µs (years before 1685 or after 2255). */
function exactMicros(micros: bigint): number | bigint {
  return micros >= BigInt(Number.MIN_SAFE_INTEGER) && micros <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(micros) : micros;
}

/**
 * Microseconds since the epoch from a number (already micros), a Date (ms precision) or text such as
 * `2025-01-01 10:00:00.123456+02` / `2025-01-01T08:00:00.123456Z` (no zone means UTC). Exact for every
 * representable instant: values beyond ±2^53 µs come back as bigint.
 */
export function normalizeTimestamp(raw: unknown): number | bigint {
  if (typeof raw === 'number') {
    if (!Number.isSafeInteger(raw)) throw new Error(`timestamp micros ${raw} is not a safe integer`);
    return raw;
  }
  if (typeof raw === 'bigint') return exactMicros(raw);
  if (raw instanceof Date) {
    if (Number.isNaN(raw.getTime())) throw new Error('not a timestamp: Invalid Date');
    return raw.getTime() * 1000;
  }
  const text = String(raw).trim();
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(text);
  if (!match || !isCalendarDay(match[1] ?? '')) throw new Error(`not a timestamp: ${text}`);
  let micros = BigInt(Date.parse(`${match[1]}T00:00:00Z`)) * 1000n + BigInt(parseTimeOfDay(match[2] ?? ''));
  const zone = match[3];
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1n : 1n;
    const digits = zone.slice(1).replace(':', '');
    const offsetMinutes = BigInt(Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
    micros -= sign * offsetMinutes * 60_000_000n;
  }
  return exactMicros(micros);
}

/** Formats UTC microseconds as ISO-8601 with six fraction digits (for SQL literals and samples). */
export function formatTimestamp(micros: number | bigint): string {
  const total = BigInt(micros);
  const millis = total / 1000n - (total % 1000n < 0n ? 1n : 0n);
  const rest = total - millis * 1000n;
  const iso = new Date(Number(millis)).toISOString();
  return `${iso.slice(0, 23)}${String(rest).padStart(3, '0')}Z`;
}

function normalizeBinary(raw: unknown): string {
  if (raw instanceof Uint8Array) return Buffer.from(raw).toString('hex');
  return String(raw).replace(/^(\\x|0x)/i, '').toLowerCase();
}

/** JSON text with object keys sorted at every depth. */
export function stableJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
}

const FIELD_SEPARATOR = '\u001f';
const NULL_TOKEN = '\u0000';

const ESCAPE = '\u001b';
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\u0000\u001b\u001f]/g;

/**
 * The text a row hash is computed from: canonical values in column order, U+001F between them, NULL
 * as U+0000. Text holding one of those control characters (or the escape U+001B) is escaped, so no
 * two different rows encode alike.
 */
export function encodeRow(row: Row): string {
  const parts = new Array<string>(row.length);
  for (let i = 0; i < row.length; i++) {
    const value = row[i];
    if (value === null || value === undefined) parts[i] = NULL_TOKEN;
    else if (typeof value === 'boolean') parts[i] = value ? 't' : 'f';
    else if (typeof value === 'number') parts[i] = Object.is(value, -0) ? '0' : String(value);
    else if (typeof value === 'bigint') parts[i] = String(value);
    else parts[i] = value.replace(NEEDS_ESCAPE, (char) => `${ESCAPE}${char.charCodeAt(0).toString(16).padStart(2, '0')}`);
  }
  return parts.join(FIELD_SEPARATOR);
}
