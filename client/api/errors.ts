/** What goes under "message": a text, or GitLab's structured {"error": ...} (render_api_error!({ error: ... })). */
export type ApiErrorMessage = string | { error: string };

/**
 * An error the API answers with its status and {"message": ...}, as GitLab's render_api_error! does; or, for a
 * parameter Grape's validation refuses, {"error": ...} (Grape's own error format, which GitLab's API keeps).
 */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 422 | 429 | 503,
    readonly body: ApiErrorMessage,
    readonly key: 'message' | 'error' = 'message',
  ) {
    super(typeof body === 'string' ? body : body.error);
    this.name = 'ApiError';
  }
}

export const unauthorized = () => new ApiError(401, '401 Unauthorized');
/** GitLab's not_found!(resource): "404 Not Found", or "404 <resource> Not Found". */
export const notFound = (what = '') => new ApiError(404, `404 ${what ? `${what} ` : ''}Not Found`);
/** GitLab's answer when a lookup finds nothing (api.rb rescues ActiveRecord::RecordNotFound): lower-case "found". */
export const recordNotFound = () => new ApiError(404, '404 Not found');
export const badRequest = (message: string) => new ApiError(400, message);
/** A parameter Grape's validation refuses: 400 {"error": "<param> is invalid"} and the like. */
export const invalidParameter = (message: string) => new ApiError(400, message, 'error');
/** The resource is in a state that does not allow the action (GitLab's conflict!). */
export const conflict = (message: string) => new ApiError(409, message);
/** check_rate_limit!: the message is structured, {"message": {"error": ...}}, unlike most of GitLab's errors. */
export const tooManyRequests = () =>
  new ApiError(429, { error: 'This endpoint has been requested too many times. Try again later.' });

/** Sets the pagination headers GitLab's API sends (X-Total, X-Page, ..., Link). */
export function paginationHeaders(url: URL, page: number, perPage: number, total: number): Record<string, string> {
  const totalPages = Math.max(1, Math.ceil(total / perPage));
  const link = (p: number, rel: string) => {
    const u = new URL(url);
    u.searchParams.set('page', String(p));
    u.searchParams.set('per_page', String(perPage));
    return `<${u.toString()}>; rel="${rel}"`;
  };
  const links = [
    page > 1 ? link(page - 1, 'prev') : undefined,
    page < totalPages ? link(page + 1, 'next') : undefined,
    link(1, 'first'),
    link(totalPages, 'last'),
  ].filter(Boolean);
  return {
    'X-Total': String(total),
    'X-Total-Pages': String(totalPages),
    'X-Page': String(page),
    'X-Per-Page': String(perPage),
    'X-Next-Page': page < totalPages ? String(page + 1) : '',
    'X-Prev-Page': page > 1 ? String(page - 1) : '',
    Link: links.join(', '),
  };
}
