import type { CanonicalValue, ColumnDef, TypeFamily } from '../../schema/index.ts';
import type { QualifiedName } from '../../sql/names.ts';
import type { PostgresDialect } from './postgres-dialect.ts';
import type { PostgresDriver } from './postgres-driver.ts';

/** A canonical (non-null) value as the text the column type's input function accepts. */
type CopyText = (value: Exclude<CanonicalValue, null>) => string;

const pad = (value: number, width: number) => String(value).padStart(width, '0');

/** `HH:MM:SS.ffffff` of microseconds; hours may exceed 23 (intervals). */
function clockText(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  return `${pad(Math.floor(seconds / 3600), 2)}:${pad(Math.floor(seconds / 60) % 60, 2)}:${pad(seconds % 60, 2)}.${pad(micros % 1_000_000, 6)}`;
}

const DAY_MICROS = 86_400_000_000;
const DAY_MICROS_BIG = 86_400_000_000n;

/** Days since the epoch and microseconds into that day (0 ≤ µs < a day), exact for bigints too. */
function dayAndTime(micros: number | bigint): [number, number] {
  if (typeof micros === 'bigint') {
    const day = micros / DAY_MICROS_BIG - (micros % DAY_MICROS_BIG < 0n ? 1n : 0n);
    return [Number(day), Number(micros - day * DAY_MICROS_BIG)];
  }
  // The float division may round across a day boundary: the remainder says which way.
  let day = Math.floor(micros / DAY_MICROS);
  let rest = micros - day * DAY_MICROS;
  if (rest < 0) { day -= 1; rest += DAY_MICROS; }
  if (rest >= DAY_MICROS) { day += 1; rest -= DAY_MICROS; }
  return [day, rest];
}

/**
 * `YYYY-MM-DD` of a day since the epoch in the proleptic Gregorian calendar (H. Hinnant's
 * civil_from_days); years beyond 9999 get more digits, years before 1 the ` BC` suffix (returned apart,
 * since it follows the time).
 */
function civilDay(days: number): [string, string] {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const monthDay = `-${pad(month, 2)}-${pad(day, 2)}`;
  return year >= 1 ? [`${pad(year, 4)}${monthDay}`, ''] : [`${pad(1 - year, 4)}${monthDay}`, ' BC'];
}

/** Day texts already rendered: loads cover few distinct days, and rendering one is the costly part. */
const dayTexts = new Map<number, [string, string]>();
const DAY_TEXTS_KEPT = 100_000;

/**
 * UTC microseconds as `YYYY-MM-DD HH:MM:SS.ffffff[+00][ BC]`, as PostgreSQL reads them (the bind
 * expressions add an interval to the epoch, which reaches the same instants).
 */
function timestampText(value: Exclude<CanonicalValue, null>, zone: string): string {
  if (typeof value !== 'number' && typeof value !== 'bigint') throw new Error(`postgres COPY: timestamp ${String(value)} is not microseconds`);
  const [days, micros] = dayAndTime(value);
  let date = dayTexts.get(days);
  if (!date) {
    if (dayTexts.size >= DAY_TEXTS_KEPT) dayTexts.clear();
    date = civilDay(days);
    dayTexts.set(days, date);
  }
  return `${date[0]} ${clockText(micros)}${zone}${date[1]}`;
}

function numberOf(value: Exclude<CanonicalValue, null>, family: TypeFamily): number {
  if (typeof value !== 'number') throw new Error(`postgres COPY: ${family} value ${String(value)} is not a number`);
  return value;
}

/** A JSON array of strings (the canonical text_array) as an array literal; JSON nulls stay NULL. */
function textArrayLiteral(value: Exclude<CanonicalValue, null>): string {
  const elements = JSON.parse(String(value)) as unknown;
  if (!Array.isArray(elements)) throw new Error(`postgres COPY: text_array ${String(value)} is not a JSON array`);
  return `{${elements.map((element) => {
    if (element === null) return 'NULL';
    if (typeof element !== 'string') throw new Error(`postgres COPY: text_array ${String(value)} holds a non-string element`);
    return `"${element.replace(/["\\]/g, '\\$&')}"`;
  }).join(',')}}`;
}

const timestamp: CopyText = (value) => timestampText(value, '');
const timestamptz: CopyText = (value) => timestampText(value, '+00');
const bytes: CopyText = (value) => `\\x${String(value)}`;

/**
 * Families whose canonical value is not already the type's input text: the counterparts of the
 * `bind` expressions of the Postgres type mapping (micros → timestamps, times and intervals, hex →
 * bytea, JSON arrays → arrays). Every other family's canonical text (or number) is its input text.
 */
const COPY_TEXT: Partial<Record<TypeFamily, CopyText>> = {
  time: (value) => clockText(numberOf(value, 'time')),
  interval: (value) => {
    const micros = numberOf(value, 'interval');
    return micros < 0 ? `-${clockText(-micros)}` : clockText(micros);
  },
  timestamp, datetime: timestamp, smalldatetime: timestamp, datetime2: timestamp,
  timestamptz, datetimeoffset: timestamptz,
  binary: bytes, varbinary: bytes, rowversion: bytes,
  int_array: (value) => String(value).replaceAll('[', '{').replaceAll(']', '}'),
  text_array: textArrayLiteral,
};

/** The families with a COPY text conversion of their own (the test pins them to the bind expressions). */
export const COPY_CONVERTED_FAMILIES: readonly TypeFamily[] = Object.keys(COPY_TEXT) as TypeFamily[];

const plainText: CopyText = (value) => (typeof value === 'boolean' ? (value ? 't' : 'f') : String(value));

/** A column's renderer of non-null canonical values as input text (before any COPY text or CSV escaping). */
export function copyInputText(column: ColumnDef): (value: Exclude<CanonicalValue, null>) => string {
  return COPY_TEXT[column.family] ?? plainText;
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_SPECIALS = /[\\\t\n\r]/g;
const COPY_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** COPY text-format escaping: backslash, tab, newline and carriage return (everything else is literal UTF-8). */
function escapeCopy(text: string): string {
  return COPY_SPECIAL.test(text) ? text.replace(COPY_SPECIALS, (char) => COPY_ESCAPES[char] ?? char) : text;
}

/**
 * Families whose rendered text never holds a tab, newline, carriage return or backslash (numbers,
 * booleans, normalised decimals and dates, and the renderers above but text_array), so the escape
 * scan is skipped for them.
 */
const PLAIN_FAMILIES: ReadonlySet<TypeFamily> = new Set<TypeFamily>([
  'boolean', 'tinyint', 'smallint', 'integer', 'bigint', 'unsigned_integer', 'uint64', 'decimal', 'numeric', 'money', 'smallmoney',
  'real', 'float', 'date', 'time', 'timestamp', 'timestamptz', 'datetime', 'smalldatetime', 'datetime2', 'datetimeoffset', 'interval',
  'oid', 'nullable', 'int_array',
]);

/** Characters per chunk handed to the COPY stream: large enough that per-write overhead vanishes. */
const CHUNK_CHARS = 1 << 18;

/**
 * Rows as COPY text-format lines (`\t` between values, `\N` for NULL), in chunks of about 256 KiB.
 * Values are rendered per family so that the column types accept them and read back canonically.
 * `trailing` supplies values of the columns after each row's own (staging metadata), so rows are
 * not copied to append them.
 */
export function* copyTextChunks(
  columns: readonly ColumnDef[], rows: Iterable<readonly CanonicalValue[]>, trailing?: (row: readonly CanonicalValue[], index: number) => readonly CanonicalValue[],
): Generator<string> {
  const render = columns.map(copyInputText);
  const escapes = columns.map((column) => !PLAIN_FAMILIES.has(column.family));
  const width = columns.length;
  let chunk = '';
  let index = 0;
  const field = (value: CanonicalValue | undefined, i: number) => {
    if (value === null || value === undefined) return '\\N';
    const text = (render[i] as CopyText)(value);
    return escapes[i] ? escapeCopy(text) : text;
  };
  for (const row of rows) {
    const extra = trailing?.(row, index) ?? [];
    if (row.length + extra.length !== width) throw new Error(`postgres COPY: row has ${row.length + extra.length} values, expected ${width}`);
    chunk += field(row[0], 0);
    for (let i = 1; i < row.length; i++) chunk += `\t${field(row[i], i)}`;
    for (let i = 0; i < extra.length; i++) chunk += `\t${field(extra[i], row.length + i)}`;
    chunk += '\n';
    index++;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

/**
 * Writes rows into `table` (its `columns`, in order) with `COPY … FROM STDIN` through the driver's
 * COPY stream; returns the rows the server counted. Runs in the driver's open transaction, if any.
 * `trailing` is as for `copyTextChunks`.
 */
export function copyRows(
  driver: PostgresDriver, dialect: PostgresDialect, table: QualifiedName, columns: readonly ColumnDef[], rows: Iterable<readonly CanonicalValue[]>,
  trailing?: (row: readonly CanonicalValue[], index: number) => readonly CanonicalValue[],
): Promise<number> {
  return driver.copyIn(dialect.compiler.copyFromStdin(table, columns).sql, copyTextChunks(columns, rows, trailing));
}
