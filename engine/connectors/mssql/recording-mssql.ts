import type {
  MssqlModuleShape, MssqlPoolShape, MssqlRequestShape, MssqlResultShape, MssqlTableShape, MssqlTransactionShape, MssqlTypeShape,
} from './mssql-driver.ts';
import { MssqlDriver } from './mssql-driver.ts';

/** A type as the fake's constructors make it: the `mssql` type's name and length. */
export interface RecordedType {
  readonly type: 'BigInt' | 'Float' | 'Bit' | 'NVarChar';
  readonly length?: number;
}

export interface RecordedInput {
  readonly name: string;
  readonly type: RecordedType;
  readonly value: unknown;
}

/** What reached the fake server, in order; `inTransaction` tells whether it ran on the transaction's connection. */
export type RecordedEvent =
  | { readonly kind: 'query'; readonly sql: string; readonly inputs: readonly RecordedInput[]; readonly inTransaction: boolean }
  | { readonly kind: 'bulk'; readonly table: string; readonly columns: readonly { name: string; type: RecordedType; nullable: boolean }[]; readonly rows: readonly (readonly unknown[])[]; readonly inTransaction: boolean }
  | { readonly kind: 'begin'; readonly isolationLevel: number | undefined }
  | { readonly kind: 'commit' }
  | { readonly kind: 'rollback' };

/** Scripted answers: the rows of a query (arrays, as with `arrayRowMode`), or undefined for none. */
export type Responder = (sql: string, inputs: readonly RecordedInput[]) => readonly (readonly unknown[])[] | undefined;

const ISOLATION_LEVEL = { READ_COMMITTED: 2, SNAPSHOT: 5 } as const;

/**
 * A recording fake of the `mssql` package's pool and module (for tests without a server): every
 * query with its typed inputs, every bulk load with its table definition and rows, and every
 * transaction boundary is recorded; queries are answered by a scripted responder.
 */
export class RecordingMssql {
  readonly events: RecordedEvent[] = [];
  readonly isolationLevels = ISOLATION_LEVEL;
  private transactionOpen = false;

  constructor(private readonly respond: Responder = () => undefined) {}

  /** A driver over the fake pool and module. */
  driver(): MssqlDriver {
    return new MssqlDriver(this.pool(), this.module());
  }

  /** The recorded queries' SQL, in order. */
  get queries(): string[] {
    return this.events.flatMap((event) => event.kind === 'query' ? [event.sql] : []);
  }

  private request(inTransaction: boolean): MssqlRequestShape {
    const inputs: RecordedInput[] = [];
    return {
      arrayRowMode: null,
      input: (name, type, value) => inputs.push({ name, type: type as RecordedType, value }),
      query: async (sql): Promise<MssqlResultShape> => {
        this.events.push({ kind: 'query', sql, inputs, inTransaction });
        const rows = this.respond(sql, inputs);
        return rows === undefined ? {} : { recordset: rows };
      },
      bulk: async (table) => {
        const recorded = table as unknown as FakeTable;
        this.events.push({ kind: 'bulk', table: recorded.name, columns: recorded.columnList, rows: recorded.rowList, inTransaction });
        return { rowsAffected: recorded.rowList.length };
      },
    };
  }

  private pool(): MssqlPoolShape {
    return {
      request: () => this.request(false),
      transaction: (): MssqlTransactionShape => ({
        begin: async (isolationLevel) => {
          this.transactionOpen = true;
          this.events.push({ kind: 'begin', isolationLevel });
        },
        commit: async () => {
          this.transactionOpen = false;
          this.events.push({ kind: 'commit' });
        },
        rollback: async () => {
          this.transactionOpen = false;
          this.events.push({ kind: 'rollback' });
        },
        request: () => this.request(this.transactionOpen),
      }),
      close: async () => undefined,
    };
  }

  private module(): MssqlModuleShape {
    return {
      Table: FakeTable,
      MAX: 65_535,
      BigInt: (): MssqlTypeShape => ({ type: 'BigInt' }),
      Float: (): MssqlTypeShape => ({ type: 'Float' }),
      Bit: (): MssqlTypeShape => ({ type: 'Bit' }),
      NVarChar: (length: number): MssqlTypeShape => ({ type: 'NVarChar', length }),
      ISOLATION_LEVEL,
    };
  }
}

/** An `mssql` Table that keeps its columns and rows for the record. */
class FakeTable implements MssqlTableShape {
  create = true;
  readonly columnList: { name: string; type: RecordedType; nullable: boolean }[] = [];
  readonly rowList: unknown[][] = [];
  readonly columns = { add: (name: string, type: MssqlTypeShape, options: { nullable: boolean }) => this.columnList.push({ name, type: type as RecordedType, nullable: options.nullable }) };
  readonly rows = { add: (...values: unknown[]) => this.rowList.push(values) };

  constructor(readonly name: string) {}
}
