/** Cursor state of one pipeline, committed last in every load. */
export interface LoadState {
  /** Highest `updated_at` (UTC micros) loaded by incremental strategies. */
  readonly watermark?: number;
  /** Highest Postgres transaction id loaded by the xmin strategy. */
  readonly xmin?: number;
  /** Last CDC position applied (Postgres LSN or MSSQL LSN, as text). */
  readonly lsn?: string;
  /** Kafka offsets per partition, committed only after the sink commit. */
  readonly offsets?: Readonly<Record<string, string>>;
  /** Backfill chunks already loaded. */
  readonly completedChunks?: readonly string[];
  readonly loadId?: string;
}

/** Where pipeline state lives (`etl_state.__dpone__loads` in SQL sinks). */
export interface StateStore {
  load(pipeline: string): Promise<LoadState>;
  commit(pipeline: string, state: LoadState): Promise<void>;
}

/** State store held in memory, for mock_contract runs and tests. */
export class MemoryStateStore implements StateStore {
  private readonly states = new Map<string, LoadState>();
  readonly commits: { pipeline: string; state: LoadState }[] = [];

  constructor(initial: Record<string, LoadState> = {}) {
    for (const [pipeline, state] of Object.entries(initial)) this.states.set(pipeline, state);
  }

  async load(pipeline: string): Promise<LoadState> {
    return this.states.get(pipeline) ?? {};
  }

  async commit(pipeline: string, state: LoadState): Promise<void> {
    this.states.set(pipeline, state);
    this.commits.push({ pipeline, state });
  }
}
