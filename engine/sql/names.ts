/** A table name, optionally inside a schema (Postgres/MSSQL schema, ClickHouse database, BigQuery dataset). */
export interface QualifiedName {
  readonly schema?: string;
  readonly name: string;
}

/** The tables one load touches: the target, the staging table of the batch and the state table. */
export interface LoadNames {
  readonly target: QualifiedName;
  readonly staging: QualifiedName;
  readonly state: QualifiedName;
}

/** Where every SQL sink keeps pipeline state; the name is part of the operations contract. */
export const DEFAULT_STATE_TABLE: QualifiedName = Object.freeze({ schema: 'etl_state', name: '__dpone__loads' });

export interface LoadNamesOptions {
  /** Schema of the target; default none (the connection's default schema). */
  readonly schema?: string;
  /** Schema of staging tables; default the target's schema. */
  readonly stagingSchema?: string;
  /** State table; default `etl_state.__dpone__loads`. */
  readonly state?: QualifiedName;
}

/** Names of one batch's load: staging beside the target unless a staging schema is given. */
export function loadNames(target: string, staging: string, options: LoadNamesOptions = {}): LoadNames {
  const schema = options.schema;
  const stagingSchema = options.stagingSchema ?? schema;
  return {
    target: schema === undefined ? { name: target } : { schema, name: target },
    staging: stagingSchema === undefined ? { name: staging } : { schema: stagingSchema, name: staging },
    state: options.state ?? DEFAULT_STATE_TABLE,
  };
}

/**
 * A work table next to `name` (same schema), e.g. the swap or exchange table of a target. The suffix
 * starts with `__dpone_` so that such tables are recognisable and never collide with user tables.
 */
export function siblingName(name: QualifiedName, suffix: string): QualifiedName {
  return { ...name, name: `${name.name}__${suffix}` };
}

/**
 * Partition values with the table-name suffix of their partition (`2024-01-05` → `p20240105`), for
 * dialects that keep one table per partition. Throws when two values would share a suffix.
 */
export function partitionSuffixes(partitions: readonly string[]): [string, string][] {
  const seen = new Map<string, string>();
  return partitions.map((value) => {
    const suffix = `p${value.replace(/[^0-9A-Za-z_]/g, '')}`;
    const other = seen.get(suffix);
    if (other !== undefined && other !== value) throw new Error(`partitions ${other} and ${value} map to the same table suffix ${suffix}`);
    seen.set(suffix, value);
    return [value, suffix];
  });
}
