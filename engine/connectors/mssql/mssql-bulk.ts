import type { CanonicalValue, ColumnDef } from '../../schema/index.ts';
import type { QualifiedName } from '../../sql/names.ts';
import { siblingName } from '../../sql/names.ts';
import type { MssqlDialect } from './mssql-dialect.ts';
import type { MssqlDriver } from './mssql-driver.ts';

/**
 * The bulk-load fast path: canonical rows of `columns` are bulk-loaded into the wire table
 * `<into>__dpone_wire` and converted into `into` by one INSERT … SELECT (`insertFromWire`); the wire
 * table is dropped afterwards, also on failure. Runs in the driver's open transaction, if any.
 */
export async function bulkInsert(
  driver: MssqlDriver, dialect: MssqlDialect, into: QualifiedName, columns: readonly ColumnDef[], rows: readonly (readonly CanonicalValue[])[],
): Promise<void> {
  if (rows.length === 0) return;
  const compiler = dialect.compiler;
  const wire = siblingName(into, 'dpone_wire');
  await driver.execute(compiler.createWireTable(wire, columns));
  try {
    await driver.bulkLoad(dialect.qualified(wire), compiler.wireColumns(columns), rows);
    await driver.query(compiler.insertFromWire(into, wire, columns));
  } finally {
    await driver.query(compiler.dropWireTable(wire));
  }
}
