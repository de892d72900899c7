/**
 * A rejected export request. `message` is worded as GitLab words it and is safe to show the user: it never holds
 * a credential or the endpoint. Nothing was written when this is thrown.
 *   404: offline exports are switched off for the instance (GitLab's API answers 404 then).
 *   422: the request, a path, a permission, the bucket or the endpoint was refused (GitLab's :unprocessable_entity).
 */
export class OfflineExportRequestError extends Error {
  constructor(
    readonly status: 404 | 422,
    message: string,
  ) {
    super(message);
    this.name = 'OfflineExportRequestError';
  }
}

/**
 * The export was stored but its workflow could not be started. The export is marked failed (and its credentials
 * wiped, since no workflow will ever read them), so the user can simply try again.
 */
export class OfflineExportStartError extends Error {
  readonly status = 503;
  constructor(
    readonly exportId: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OfflineExportStartError';
  }
}

export const unprocessable = (message: string) => new OfflineExportRequestError(422, message);
