import type { ColumnDef, Row, TableSchema } from '../schema/index.ts';
import { columnIndex, extendRow, extendSchema, freezeRow, META_COLUMNS, rowHash } from '../schema/index.ts';
import type { ChangeOp } from './change.ts';
import type { TargetShape, TargetSpec } from './load-plan.ts';

const OP_COLUMN: ColumnDef = { name: META_COLUMNS.op, family: 'char', nullable: false };
const HASH_COLUMN: ColumnDef = { name: META_COLUMNS.rowHash, family: 'char', nullable: false };
const SCD2_COLUMNS: readonly ColumnDef[] = [
  HASH_COLUMN,
  { name: META_COLUMNS.validFrom, family: 'timestamp', nullable: false },
  { name: META_COLUMNS.validTo, family: 'timestamp', nullable: true },
  { name: META_COLUMNS.isCurrent, family: 'boolean', nullable: false },
];

const SHAPE_COLUMNS: Record<TargetShape, readonly ColumnDef[]> = {
  plain: [],
  changelog: [OP_COLUMN],
  hashed: [HASH_COLUMN],
  scd2: SCD2_COLUMNS,
};

/** The physical column list of a target: source columns followed by the shape's metadata columns. */
export function targetSchema(target: TargetSpec): TableSchema {
  const extra = SHAPE_COLUMNS[target.shape];
  return extra.length === 0 ? target.dataSchema : extendSchema(target.dataSchema, extra);
}

/** Column positions a connector needs to interpret the IR against a target. */
export interface TargetLayout {
  readonly schema: TableSchema;
  readonly keyIndex: number;
  readonly dataWidth: number;
  readonly hashIndex: number;
  readonly validToIndex: number;
  readonly isCurrentIndex: number;
}

export function targetLayout(target: TargetSpec): TargetLayout {
  const schema = targetSchema(target);
  const find = (name: string) => schema.columns.findIndex((column) => column.name === name);
  return {
    schema,
    keyIndex: columnIndex(schema, schema.key),
    dataWidth: target.dataSchema.columns.length,
    hashIndex: find(META_COLUMNS.rowHash),
    validToIndex: find(META_COLUMNS.validTo),
    isCurrentIndex: find(META_COLUMNS.isCurrent),
  };
}

/** `__dpone__row_hash` of a source row: 16 hex digits of its canonical 64-bit hash. */
export function dataRowHash(row: Row): string {
  return rowHash(row).hex;
}

/**
 * A source row as the target stores it: plain rows are kept as they are (same frozen array), other
 * shapes append their metadata values. `validFrom` is only read for the scd2 shape.
 */
export function toTargetRow(row: Row, shape: TargetShape, op: ChangeOp, validFrom: number): Row {
  switch (shape) {
    case 'plain':
      return row;
    case 'changelog':
      return extendRow(row, [op]);
    case 'hashed':
      return extendRow(row, [dataRowHash(row)]);
    case 'scd2':
      return extendRow(row, [dataRowHash(row), validFrom, null, true]);
  }
}

/** A row that carries only its key, used to stage deletes whose before image is unknown. */
export function keyOnlyRow(schema: TableSchema, key: string | number): Row {
  const values = schema.columns.map((column) => (column.name === schema.key ? key : null));
  return freezeRow(values);
}
