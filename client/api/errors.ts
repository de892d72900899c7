/** An error the API answers with its status and {"message": ...}, as GitLab's render_api_error! does. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 422 | 429,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const unauthorized = () => new ApiError(401, '401 Unauthorized');
export const notFound = (what = '') => new ApiError(404, `404 ${what ? `${what} ` : ''}Not Found`);
export const badRequest = (message: string) => new ApiError(400, message);
