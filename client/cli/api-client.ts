import { CliError, ExitCode } from './errors';

/** Where the API is and who calls it: --url/--token, else GITLAB_TEMPORAL_URL/GITLAB_TEMPORAL_TOKEN. */
export interface ApiTarget {
  url: string;
  token: string;
}

/** One answer of the API: its parsed JSON body and the headers paging needs. */
export interface ApiAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

const REQUEST_TIMEOUT_MS = 30_000;

/** The text of GitLab-style error bodies: {"message": "..."}, {"message": {"error": "..."}}, {"error": "..."}. */
function errorText(body: unknown, fallback: string): string {
  if (body && typeof body === 'object') {
    const { message, error } = body as { message?: unknown; error?: unknown };
    if (typeof message === 'string') return message;
    if (message && typeof message === 'object' && typeof (message as { error?: unknown }).error === 'string')
      return (message as { error: string }).error;
    if (typeof error === 'string') return error;
  }
  return typeof body === 'string' && body.trim() ? body.trim().slice(0, 500) : fallback;
}

/**
 * The exit code an API refusal maps to, the same for every command: 401/403 the token (77), 404 not found (3),
 * 400/409/422 a refused request (2), 429 and 5xx a server that cannot serve now (5).
 */
export function exitCodeOfStatus(status: number): number {
  if (status === 401 || status === 403) return ExitCode.AUTH;
  if (status === 404) return ExitCode.NOT_FOUND;
  if (status === 429 || status >= 500) return ExitCode.UNAVAILABLE;
  if (status >= 400) return ExitCode.USAGE;
  return ExitCode.FAILED;
}

/** A small client of the REST API (Node's fetch), turning every failure into a CliError with its exit code. */
export class ApiClient {
  private readonly base: URL;

  constructor(private readonly target: ApiTarget) {
    // The API lives under /api/v4 of the URL given, which may itself have a path (a reverse proxy's prefix).
    this.base = new URL(`${target.url.replace(/\/+$/, '')}/api/v4/`);
  }

  async request<T>(
    method: 'GET' | 'POST',
    path: string,
    options: { query?: Record<string, string | number | undefined>; body?: unknown } = {},
  ): Promise<ApiAnswer<T>> {
    const url = new URL(path.replace(/^\//, ''), this.base);
    for (const [key, value] of Object.entries(options.query ?? {}))
      if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { 'PRIVATE-TOKEN': this.target.token, Accept: 'application/json' };
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new CliError(`cannot reach the API at ${this.target.url}: ${why}`, ExitCode.UNAVAILABLE);
    }
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON (a proxy's error page): keep the text for the message
    }
    if (!res.ok) {
      const message = errorText(body, `${res.status} ${res.statusText}`);
      const hint =
        res.status === 401
          ? ' (check the token: --token or GITLAB_TEMPORAL_TOKEN)'
          : res.status === 429
            ? ' (rate limit; try again later)'
            : '';
      throw new CliError(`${message}${hint}`, exitCodeOfStatus(res.status));
    }
    return { status: res.status, body: body as T, headers: res.headers };
  }

  async get<T>(path: string, query?: Record<string, string | number | undefined>): Promise<T> {
    return (await this.request<T>('GET', path, { query })).body;
  }

  async post<T>(path: string, body?: unknown): Promise<T> {
    return (await this.request<T>('POST', path, { body })).body;
  }

  /** The total a paginated list reports in X-Total (one request of one item). */
  async count(path: string, query: Record<string, string | number | undefined> = {}): Promise<number> {
    const answer = await this.request<unknown[]>('GET', path, { query: { ...query, page: 1, per_page: 1 } });
    const total = Number(answer.headers.get('x-total'));
    return Number.isFinite(total) ? total : answer.body.length;
  }

  /**
   * Pages of a paginated list, in order, 100 items at a time (the API's largest page), following X-Next-Page until
   * `limit` items have been read or the list ends.
   */
  async *pages<T>(
    path: string,
    query: Record<string, string | number | undefined> = {},
    limit = Infinity,
  ): AsyncGenerator<T[]> {
    // One page size for the whole walk: page N of another size would be other items.
    const perPage = Math.min(100, limit);
    let page = 1;
    let read = 0;
    while (read < limit) {
      const answer = await this.request<T[]>('GET', path, { query: { ...query, page, per_page: perPage } });
      const items = answer.body.slice(0, limit - read);
      read += items.length;
      if (items.length > 0) yield items;
      const next = answer.headers.get('x-next-page');
      if (!next || items.length === 0) return;
      page = Number(next);
    }
  }

  async list<T>(path: string, query: Record<string, string | number | undefined> = {}, limit = Infinity): Promise<T[]> {
    const all: T[] = [];
    for await (const items of this.pages<T>(path, query, limit)) all.push(...items);
    return all;
  }
}
