import { invalidParameter } from './errors';
import { integerParam } from './query';

/** GitLab's Kaminari settings (config/initializers/kaminari_config.rb). */
export const DEFAULT_PER_PAGE = 20;
export const MAX_PER_PAGE = 100;
/** The last page whose offset is still a safe integer; GitLab has no such bound, its database refuses first. */
const MAX_PAGE = Math.floor(Number.MAX_SAFE_INTEGER / MAX_PER_PAGE);

export interface Pagination {
  page: number;
  perPage: number;
}

/**
 * page and per_page as GitLab reads them (`use :pagination`, then Kaminari's page().per()): not an integer is a 400,
 * per_page 0 is refused (`except_values: [0]`), a page below 1 is page 1, a negative per_page is the default 20 and
 * one above 100 is 100. Clients written against GitLab ask for per_page=1000 and expect pages of 100.
 */
export function readPagination(query: unknown): Pagination {
  const page = integerParam(query, 'page') ?? 1;
  const perPage = integerParam(query, 'per_page') ?? DEFAULT_PER_PAGE;
  if (perPage === 0) throw invalidParameter('per_page has a value not allowed');
  if (page > MAX_PAGE) throw invalidParameter('page does not have a valid value');
  return {
    page: Math.max(1, page),
    perPage: perPage < 0 ? DEFAULT_PER_PAGE : Math.min(perPage, MAX_PER_PAGE),
  };
}
