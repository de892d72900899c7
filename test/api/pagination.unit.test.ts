import { readPagination } from '../../client/api/pagination';
import { ApiError } from '../../client/api/errors';

// page and per_page as GitLab's `use :pagination` (Grape Integer, per_page except_values [0]) and Kaminari's
// page().per() with default 20 and max 100 leave them.

const refusal = (query: Record<string, unknown>): string => {
  try {
    readPagination(query);
  } catch (err) {
    // Grape's validation errors: answered as {"error": ...}, not {"message": ...}.
    if (err instanceof ApiError && err.status === 400 && err.key === 'error') return err.message;
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(query)}`);
};

describe('readPagination', () => {
  it.each([
    [{}, 1, 20],
    [{ page: '', per_page: '' }, 1, 20],
    [{ page: '3', per_page: '50' }, 3, 50],
    [{ per_page: '100' }, 1, 100],
    [{ per_page: '101' }, 1, 100],
    [{ per_page: '9'.repeat(30) }, 1, 100],
    [{ per_page: '-1' }, 1, 20],
    [{ per_page: '-' + '9'.repeat(30) }, 1, 20],
    [{ page: '0' }, 1, 20],
    [{ page: '-7' }, 1, 20],
    [{ page: ' 2 ', per_page: '+5' }, 2, 5],
    [{ page: ['1', '4'], per_page: ['7', '8'] }, 4, 8],
    [{ page: '90071992547409' }, 90071992547409, 20],
  ])('%j is page %d of %d', (query, page, perPage) => {
    expect(readPagination(query)).toEqual({ page, perPage });
  });

  it.each([
    [{ per_page: '0' }, 'per_page has a value not allowed'],
    [{ per_page: '-0' }, 'per_page has a value not allowed'],
    [{ per_page: '1.5' }, 'per_page is invalid'],
    [{ per_page: '1e3' }, 'per_page is invalid'],
    [{ per_page: '0x10' }, 'per_page is invalid'],
    [{ page: 'abc' }, 'page is invalid'],
    [{ page: 'Infinity' }, 'page is invalid'],
    [{ page: { x: '1' } }, 'page is invalid'],
    [{ page: '90071992547410' }, 'page does not have a valid value'],
    [{ page: '9'.repeat(30) }, 'page does not have a valid value'],
  ])('refuses %j: %s', (query, message) => {
    expect(refusal(query)).toBe(message);
  });
});
