import type { CanonicalValue } from '../schema/index.ts';

/**
 * One SQL statement and its bind parameters. Parameters are canonical values (timestamps as UTC
 * microseconds, binary as hex, decimals as exact text): the SQL itself converts each placeholder into
 * the physical column type, so a driver binds values by their JavaScript kind and needs no schema.
 */
export interface SqlStatement {
  readonly sql: string;
  readonly params: readonly CanonicalValue[];
}

/** A statement without parameters (DDL, fixed queries). */
export function sqlText(sql: string): SqlStatement {
  return { sql, params: [] };
}
