/**
 * Response shapes of the Atlas Admin API v2, byte for byte where recorded traffic shows them:
 * the versioned content type, the `Ratelimit-*` headers, the `ApiError` body, paginated lists and
 * the raw-PEM create response.
 */
import { STATUS_CODES } from 'node:http';

/** A response the simulator has decided on but not yet written (faults may still drop it). */
export interface SimResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export const ATLAS_MEDIA_TYPE = 'application/vnd.atlas.2023-01-01+json';
/** What Atlas puts on every 2xx, including the raw-PEM create response. */
export const ATLAS_CONTENT_TYPE = `${ATLAS_MEDIA_TYPE};charset=utf-8`;

/** Headers every recorded Atlas response carries; harmless to clients, and they make dumps look real. */
const STATIC_HEADERS: Readonly<Record<string, string>> = {
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  Server: 'mdbws',
  'Strict-Transport-Security': 'max-age=31536000; includeSubdomains;',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'X-Permitted-Cross-Domain-Policies': 'none',
};

/**
 * Thrown by request handlers to answer with an error response; keeps the handlers linear
 * (look up the group, the user, validate, act) instead of threading result unions through them.
 */
export class ApiFailure extends Error {
  constructor(readonly response: SimResponse) {
    super(`Atlas simulator answers ${response.status}`);
    this.name = 'ApiFailure';
  }
}

/** A 2xx Atlas v2 response with a body already serialised (JSON text or raw PEM). */
export const atlasResponse = (status: number, body: string): SimResponse => ({
  status,
  headers: { 'Content-Type': ATLAS_CONTENT_TYPE, ...STATIC_HEADERS },
  body,
});

/** A plain JSON response (used by the OAuth endpoints, which are not versioned). */
export const jsonResponse = (status: number, value: unknown): SimResponse => ({
  status,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
  body: JSON.stringify(value),
});

/**
 * An `ApiError` response: `{detail, error, errorCode, parameters, reason}` (keys in the order
 * Atlas serialises them) under `Content-Type: application/json`.
 */
export const apiError = (
  status: number,
  errorCode: string,
  detail: string,
  parameters: readonly unknown[] = [],
  headers: Record<string, string> = {},
): SimResponse => ({
  status,
  headers: { 'Content-Type': 'application/json', ...STATIC_HEADERS, ...headers },
  body: JSON.stringify({
    detail,
    error: status,
    errorCode,
    parameters,
    reason: STATUS_CODES[status] ?? 'Unknown',
  }),
});

/** `2026-08-10T02:06:35Z`: Atlas prints date-times in UTC without milliseconds. */
export const isoSeconds = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Validated pagination query parameters (spec `components.parameters`). */
export interface PageRequest {
  pageNum: number;
  itemsPerPage: number;
  includeCount: boolean;
}

const MAX_ITEMS_PER_PAGE = 500;

const invalidQueryParameter = (name: string): ApiFailure =>
  // The exact Atlas code for an out-of-range paging parameter is not recorded; this one is
  // plausible and distinct. [unconfirmed]
  new ApiFailure(
    apiError(400, 'INVALID_QUERY_PARAMETER', `Invalid query parameter ${name} specified.`, [name]),
  );

const positiveInt = (raw: string | null, fallback: number): number | undefined => {
  if (raw === null) return fallback;
  if (!/^\d{1,9}$/.test(raw)) return undefined;
  const value = Number(raw);
  return value >= 1 ? value : undefined;
};

/** Parses `pageNum`, `itemsPerPage` (1..500) and `includeCount`; throws the 400 to send. */
export const parsePageRequest = (query: URLSearchParams): PageRequest => {
  const pageNum = positiveInt(query.get('pageNum'), 1);
  if (pageNum === undefined) throw invalidQueryParameter('pageNum');
  const itemsPerPage = positiveInt(query.get('itemsPerPage'), 100);
  if (itemsPerPage === undefined || itemsPerPage > MAX_ITEMS_PER_PAGE) {
    throw invalidQueryParameter('itemsPerPage');
  }
  const rawCount = query.get('includeCount')?.toLowerCase() ?? 'true';
  if (rawCount !== 'true' && rawCount !== 'false') throw invalidQueryParameter('includeCount');
  return { pageNum, itemsPerPage, includeCount: rawCount === 'true' };
};

/**
 * A paginated list body `{"links":[...],"results":[...],"totalCount":N}`. Each result arrives as
 * JSON text already, so a certificate's `_id` can be written as a bare integer above 2^53 without
 * passing through a JavaScript number.
 */
export const paginatedBody = (
  selfUrl: string,
  page: PageRequest,
  rawResults: readonly string[],
): string => {
  const start = (page.pageNum - 1) * page.itemsPerPage;
  const pageItems = rawResults.slice(start, start + page.itemsPerPage);
  const linkTo = (pageNum: number, rel: string) => ({
    // Atlas builds the self link itself, in this parameter order, whatever order the client used.
    href: `${selfUrl}?includeCount=${page.includeCount}&pageNum=${pageNum}&itemsPerPage=${page.itemsPerPage}`,
    rel,
  });
  const links = [linkTo(page.pageNum, 'self')];
  if (page.pageNum > 1) links.unshift(linkTo(page.pageNum - 1, 'previous'));
  if (start + page.itemsPerPage < rawResults.length) links.push(linkTo(page.pageNum + 1, 'next'));
  const count = page.includeCount ? `,"totalCount":${rawResults.length}` : '';
  return `{"links":${JSON.stringify(links)},"results":[${pageItems.join(',')}]${count}}`;
};
