import type { CanonicalValue, Row, TableSchema } from '../../schema/index.ts';
import { columnIndex, freezeRow, normalizeTimestamp, normalizeValue } from '../../schema/index.ts';
import type { ChangeOp, ChangeRecord, RowPredicate } from '../../plan/index.ts';
import { keyOf, rowMatcher } from '../../plan/index.ts';
import type { LoadState } from '../../state/index.ts';
import type { ChangeRead, SnapshotRead, Source, SourceCapabilities, XminRead } from '../source.ts';

export interface RestApiSourceInit {
  /** Collection URL, e.g. `http://127.0.0.1:8080/v1/orders`; changes are read from `<baseUrl>/changes`. */
  readonly baseUrl: string;
  readonly schema: TableSchema;
  /** Rows per page asked for; default 500. */
  readonly pageSize?: number;
  /** Retries of a request after a 5xx, a 429 or a network error; default 3. */
  readonly retries?: number;
  /** Delay before the first retry, doubled for each further one; default 25 ms. */
  readonly retryDelayMs?: number;
  /** Time limit of one request; default 30 s. */
  readonly timeoutMs?: number;
}

/** A REST API has a change feed by timestamp, but no transaction ids and no log positions. */
export const REST_API_CAPABILITIES: SourceCapabilities = { incremental: true, xmin: false, cdc: false };

const CHANGE_OPS: ReadonlySet<string> = new Set<ChangeOp>(['I', 'U', 'D']);

/** A request that failed for good: the status (or null for a network error) and the URL. */
export class RestApiError extends Error {
  constructor(readonly url: string, readonly status: number | null, message: string) {
    super(message);
    this.name = 'RestApiError';
  }
}

interface Page {
  readonly data: readonly unknown[];
  readonly nextPage: string | null;
  readonly body: Record<string, unknown>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The REST API source family: paginated JSON reads of a collection and of its change feed. Rows
 * come back as canonical values (each wire value through `normalizeValue` of its column's family),
 * so a row read over HTTP hashes like the row the API was built from. Snapshot filters on the key
 * (`between`) and on the partition column (`in`) are pushed down as query parameters and applied
 * again locally, so a server that ignores a filter cannot widen the read.
 */
export class RestApiSource implements Source {
  readonly family = 'rest_api';
  readonly capabilities = REST_API_CAPABILITIES;
  readonly schema: TableSchema;
  private readonly baseUrl: string;
  private readonly pageSize: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly timeoutMs: number;
  private readonly keyIndex: number;

  constructor(init: RestApiSourceInit) {
    this.schema = init.schema;
    this.baseUrl = init.baseUrl.replace(/\/+$/, '');
    this.pageSize = init.pageSize ?? 500;
    this.retries = init.retries ?? 3;
    this.retryDelayMs = init.retryDelayMs ?? 25;
    this.timeoutMs = init.timeoutMs ?? 30_000;
    if (!Number.isSafeInteger(this.pageSize) || this.pageSize < 1) throw new Error(`page size ${init.pageSize} is not a positive integer`);
    if (!Number.isSafeInteger(this.retries) || this.retries < 0) throw new Error(`retries ${init.retries} is not a non-negative integer`);
    this.keyIndex = columnIndex(this.schema, this.schema.key);
  }

  /**
   * The current collection, every page of it, optionally filtered. `asOf` is the API's `as_of`; the
   * cursor is the feed's high-water mark the last page reports, so a later `readChanges` starts
   * where this snapshot stands.
   */
  async readSnapshot(filter?: RowPredicate): Promise<SnapshotRead> {
    const params = new URLSearchParams();
    if (filter) this.pushDown(filter, params);
    const matches = filter ? rowMatcher(this.schema, filter) : undefined;
    const rows: Row[] = [];
    let asOf: number | undefined;
    let highWaterMark: number | undefined;
    await this.forEachPage(this.baseUrl, params, (page, url) => {
      for (const record of page.data) {
        const row = this.decodeRow(record, url);
        if (!matches || matches(row)) rows.push(row);
      }
      const stamp = page.body.as_of;
      if (typeof stamp !== 'string') throw new RestApiError(url, 200, `GET ${url} returned no as_of timestamp`);
      asOf ??= Number(normalizeTimestamp(stamp));
      if (page.nextPage === null) highWaterMark = this.cursorOf(page.body, url) ?? undefined;
    });
    if (asOf === undefined) throw new Error(`GET ${this.baseUrl} returned no page`);
    return { rows, asOf, cursor: highWaterMark === undefined ? {} : { watermark: highWaterMark } };
  }

  /**
   * Changes with `at` above the state's watermark (all of them without one), deletes included, in
   * feed order. The position of a change is its `at` as text: REST has no log position.
   */
  async readChanges(state: LoadState): Promise<ChangeRead> {
    const params = new URLSearchParams();
    if (state.watermark !== undefined) params.set('updated_since', String(state.watermark));
    const changes: ChangeRecord[] = [];
    let watermark = state.watermark ?? 0;
    await this.forEachPage(`${this.baseUrl}/changes`, params, (page, url) => {
      for (const item of page.data) {
        const change = this.decodeChange(item, url);
        if (state.watermark !== undefined && change.at <= state.watermark) {
          throw new RestApiError(url, 200, `GET ${url} returned a change at ${change.at}, not after updated_since=${state.watermark}`);
        }
        changes.push(change);
        watermark = Math.max(watermark, change.at);
      }
      if (page.nextPage === null) watermark = Math.max(watermark, this.cursorOf(page.body, url) ?? watermark);
    });
    return { changes, cursor: { watermark } };
  }

  /** Not supported: a REST API exposes no transaction ids. */
  async readXmin(_state: LoadState): Promise<XminRead> {
    throw new Error('source rest_api does not support xmin extraction: a REST API exposes no transaction ids');
  }

  /** Not supported: a REST API exposes no change log positions (use readChanges). */
  async readCdc(_state: LoadState): Promise<ChangeRead> {
    throw new Error('source rest_api does not support cdc extraction: a REST API has no log positions (use incremental)');
  }

  /** Query parameters for the filters the API understands; anything else is only applied locally. */
  private pushDown(filter: RowPredicate, params: URLSearchParams): void {
    if (filter.kind === 'between' && filter.column === this.schema.key) {
      params.set(`${filter.column}_from`, String(filter.lo));
      params.set(`${filter.column}_to`, String(filter.hi));
    } else if (filter.kind === 'in' && filter.column === this.schema.partitionColumn) {
      // The list is comma separated: a value holding a comma cannot be sent, so it is not pushed.
      if (filter.values.every((value) => !String(value).includes(','))) params.set(`${filter.column}_in`, filter.values.join(','));
    }
  }

  /** Walks `next_page` tokens from the first page to the last; a repeated token is an error, not a loop. */
  private async forEachPage(endpoint: string, params: URLSearchParams, visit: (page: Page, url: string) => void): Promise<void> {
    const seen = new Set<string>();
    let token: string | null = null;
    do {
      const query = new URLSearchParams(params);
      query.set('page_size', String(this.pageSize));
      if (token !== null) query.set('page', token);
      const url = `${endpoint}?${query.toString()}`;
      const page = this.parsePage(await this.getJson(url), url);
      visit(page, url);
      token = page.nextPage;
      if (token !== null) {
        if (seen.has(token)) throw new RestApiError(url, 200, `GET ${url} returned next_page ${token} twice: pagination does not advance`);
        seen.add(token);
      }
    } while (token !== null);
  }

  private parsePage(body: unknown, url: string): Page {
    if (!isRecord(body) || !Array.isArray(body.data)) throw new RestApiError(url, 200, `GET ${url} returned no data array`);
    const next = body.next_page ?? null;
    if (next !== null && typeof next !== 'string') throw new RestApiError(url, 200, `GET ${url} returned next_page ${JSON.stringify(next)}, not a token`);
    return { data: body.data as unknown[], nextPage: next, body };
  }

  private cursorOf(body: Record<string, unknown>, url: string): number | null {
    const cursor = body.cursor ?? null;
    if (cursor !== null && !Number.isSafeInteger(cursor)) throw new RestApiError(url, 200, `GET ${url} returned cursor ${JSON.stringify(cursor)}, not integer microseconds`);
    return cursor as number | null;
  }

  /** One GET with bounded retries: 5xx, 429 and network errors are retried with a doubling backoff. */
  private async getJson(url: string): Promise<unknown> {
    let lastProblem = '';
    for (let attempt = 0; attempt <= this.retries; attempt++) {
      if (attempt > 0) await sleep(this.retryDelayMs * 2 ** (attempt - 1));
      let response: Response;
      try {
        response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (error) {
        const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
        lastProblem = `${error instanceof Error ? error.message : String(error)}${cause}`;
        continue;
      }
      // The body is read in every case: an unread body keeps the connection from being reused.
      const text = await response.text();
      if (response.ok) {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new RestApiError(url, response.status, `GET ${url} returned ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`);
        }
      }
      lastProblem = `HTTP ${response.status} ${text.slice(0, 200)}`;
      if (response.status < 500 && response.status !== 429) {
        throw new RestApiError(url, response.status, `GET ${url} failed with HTTP ${response.status}: ${text.slice(0, 200)}`);
      }
    }
    throw new RestApiError(url, null, `GET ${url} failed after ${this.retries + 1} attempts: ${lastProblem}`);
  }

  /** A wire object as a frozen row of canonical values in schema column order. */
  private decodeRow(record: unknown, url: string): Row {
    if (!isRecord(record)) throw new RestApiError(url, 200, `GET ${url} returned a row that is not an object: ${JSON.stringify(record)}`);
    const values: CanonicalValue[] = [];
    for (const column of this.schema.columns) {
      // A missing field is schema drift, not a null: the API sends nulls explicitly.
      if (!(column.name in record)) throw new RestApiError(url, 200, `GET ${url} returned a row without column ${column.name}`);
      try {
        values.push(normalizeValue(column.family, record[column.name]));
      } catch (error) {
        throw new RestApiError(url, 200, `GET ${url}: column ${column.name} (${column.family}): ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return freezeRow(values);
  }

  private decodeChange(item: unknown, url: string): ChangeRecord {
    if (!isRecord(item) || typeof item.op !== 'string' || !CHANGE_OPS.has(item.op) || !Number.isSafeInteger(item.at)) {
      throw new RestApiError(url, 200, `GET ${url} returned a change without op I/U/D and integer at: ${JSON.stringify(item).slice(0, 200)}`);
    }
    const row = this.decodeRow(item.row, url);
    const at = item.at as number;
    return { op: item.op as ChangeOp, key: keyOf(row, this.keyIndex), row, at, position: String(at) };
  }
}
