import type { CanonicalValue, ColumnDef, Row } from '../../schema/index.ts';
import type { QualifiedName } from '../../sql/names.ts';
import { siblingName } from '../../sql/names.ts';
import type { ClickHouseDialect } from './clickhouse-dialect.ts';
import type { ClickHouseDriver } from './clickhouse-driver.ts';

// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\\\t\n\r\u0000]/;
// eslint-disable-next-line no-control-regex
const ESCAPED = /[\\\t\n\r\u0000]/g;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\u0000': '\\0' };
/** Rows per chunk: large enough for the server to parse in parallel, small enough to overlap encoding with inserting. */
const ROWS_PER_CHUNK = 8_192;
const CHUNK_BYTES = 1 << 24;

/**
 * One canonical value in TabSeparated form: `\N` for NULL, `true`/`false`, numbers and bigints in
 * decimal, text with backslash escapes. The wire columns it is read into are typed as the
 * canonical form (see `ClickHouseCompiler.wireLoad`), so no other conversion happens here.
 */
function field(value: CanonicalValue): string {
  if (value === null) return '\\N';
  if (typeof value !== 'string') return String(value);
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, (char) => ESCAPES[char] ?? char) : value;
}

/**
 * Rows as TabSeparated bodies of at most `ROWS_PER_CHUNK` rows, one line per row; `extra(index)`
 * appends columns to row `index`. A generator, so that the caller can insert one chunk while the
 * next is encoded.
 */
export function* tabSeparatedChunks(rows: readonly Row[], extra?: (index: number) => readonly CanonicalValue[]): Generator<Buffer> {
  for (let start = 0; start < rows.length; start += ROWS_PER_CHUNK) {
    const parts: Buffer[] = [];
    let buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    let offset = 0;
    for (let index = start; index < Math.min(rows.length, start + ROWS_PER_CHUNK); index++) {
      const row = rows[index] as Row;
      let line = '';
      for (let column = 0; column < row.length; column++) line += (column === 0 ? '' : '\t') + field(row[column] ?? null);
      if (extra) for (const value of extra(index)) line += `\t${field(value)}`;
      line += '\n';
      // Three bytes per UTF-16 unit bound the UTF-8 length.
      if (offset + line.length * 3 > buffer.length) {
        parts.push(buffer.subarray(0, offset));
        buffer = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, line.length * 3));
        offset = 0;
      }
      offset += buffer.write(line, offset);
    }
    parts.push(buffer.subarray(0, offset));
    yield parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
  }
}

/**
 * Loads canonical rows into `table` (whose columns are `columns`) through the native path:
 * TabSeparated chunks inserted into a wire table — each chunk encoded while the previous one is
 * inserted — then converted into `table` by one INSERT … SELECT (see `ClickHouseCompiler.wireLoad`).
 * `extra(index)` appends values to row `index` (staging's op and row hash). The wire table is
 * dropped afterwards, also on failure.
 */
export async function insertCanonicalRows(
  driver: ClickHouseDriver, dialect: ClickHouseDialect, table: QualifiedName, columns: readonly ColumnDef[],
  rows: readonly Row[], extra?: (index: number) => readonly CanonicalValue[],
): Promise<void> {
  if (rows.length === 0) return;
  const wire = siblingName(table, 'dpone_wire');
  const load = dialect.compiler.wireLoad(columns, wire, table);
  await driver.execute(load.create);
  try {
    let inserting: Promise<void> | undefined;
    for (const chunk of tabSeparatedChunks(rows, extra)) {
      await inserting;
      inserting = driver.insertTabSeparated(wire, chunk);
    }
    await inserting;
    await driver.execute([load.insert]);
  } finally {
    await driver.execute([load.drop]);
  }
}
