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
      return Math.fround(Number(raw));
    case 'float':
      return Number(raw);
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
      return String(raw).toUpperCase().replace(/\s*\(\s*/g, '(').replace(/\s*\)/g, ')').replace(/\s+/g, ' ');
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
  const value = typeof raw === 'bigint' ? Number(raw) : Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${family} value ${String(raw)} is not a safe integer`);
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
  if (!match) throw new Error(`not a plain decimal: ${String(raw)}`);
  const whole = (match[2] ?? '').replace(/^0+(?=\d)/, '') || '0';
  const fraction = (match[3] ?? '').replace(/0+$/, '');
  const body = fraction ? `${whole}.${fraction}` : whole;
  return match[1] === '-' && body !== '0' ? `-${body}` : body;
}

function normalizeDate(raw: unknown): string {
  if (raw instanceof Date) return raw.toISOString().slice(0, 10);
  const text = String(raw);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) throw new Error(`not an ISO date: ${text}`);
  return text.slice(0, 10);
}

/** Parses `HH:MM:SS[.ffffff]` into microseconds since midnight. */
export function parseTimeOfDay(text: string): number {
  const match = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?/.exec(text);
  if (!match) throw new Error(`not a time of day: ${text}`);
  const micros = Number(((match[4] ?? '') + '000000').slice(0, 6));
  return ((Number(match[1]) * 60 + Number(match[2])) * 60 + Number(match[3])) * 1_000_000 + micros;
}

/**
 * Microseconds since the epoch from a number (already micros), a Date (ms precision) or text such as
 * `2025-01-01 10:00:00.123456+02` / `2025-01-01T08:00:00.123456Z` (no zone means UTC).
 */
export function normalizeTimestamp(raw: unknown): number {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'bigint') return Number(raw);
  if (raw instanceof Date) return raw.getTime() * 1000;
  const text = String(raw).trim();
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(text);
  if (!match) throw new Error(`not a timestamp: ${text}`);
  const dayMillis = Date.parse(`${match[1]}T00:00:00Z`);
  let micros = dayMillis * 1000 + parseTimeOfDay(match[2] ?? '');
  const zone = match[3];
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMinutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0');
    micros -= sign * offsetMinutes * 60_000_000;
  }
  return micros;
}

/** Formats UTC microseconds as ISO-8601 with six fraction digits (for SQL literals and samples). */
export function formatTimestamp(micros: number): string {
  const millis = Math.floor(micros / 1000);
  const rest = micros - millis * 1000;
  const iso = new Date(millis).toISOString();
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

/** The text a row hash is computed from: canonical values in column order, U+001F between them. */
export function encodeRow(row: Row): string {
  const parts = new Array<string>(row.length);
  for (let i = 0; i < row.length; i++) {
    const value = row[i];
    if (value === null || value === undefined) parts[i] = NULL_TOKEN;
    else if (typeof value === 'boolean') parts[i] = value ? 't' : 'f';
    else if (typeof value === 'number') parts[i] = Object.is(value, -0) ? '0' : String(value);
    else parts[i] = value;
  }
  return parts.join(FIELD_SEPARATOR);
}
