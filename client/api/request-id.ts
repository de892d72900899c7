import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

// Request ids, as GitLab's correlation ids: an incoming X-Request-Id is kept when it is a short run of safe
// characters (it ends up in logs and headers, so nothing that could forge a log line or a header), otherwise a new
// one is made. The id is echoed in the response's X-Request-Id and carried by every log line of the request.

export const REQUEST_ID_HEADER = 'x-request-id';
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  const value = Array.isArray(given) ? given[0] : given;
  return value !== undefined && SAFE_REQUEST_ID.test(value) ? value : randomUUID();
}
