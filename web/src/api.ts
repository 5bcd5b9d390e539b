import { storedToken } from './session';

/** One entry of a 422 `validation_failed` answer (SPEC §3). */
export interface FieldError {
  field: string;
  message: string;
}

/** An error answer of the API, kept as the API gave it: `{error, message, errors?}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: FieldError[] = [],
  ) {
    super(message);
  }

  /** The message of the first error about `field`, if any. */
  fieldMessage(field: string): string | undefined {
    return this.fields.find((error) => error.field === field)?.message;
  }
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

type Query = Record<string, string | number | undefined>;

function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== '') params.set(name, String(value));
  }
  const search = params.toString();
  return search ? `${path}?${search}` : path;
}

async function toApiError(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => null)) as {
    error?: unknown;
    message?: unknown;
    errors?: unknown;
  } | null;
  if (body && typeof body.error === 'string') {
    const fields = Array.isArray(body.errors) ? (body.errors as FieldError[]) : [];
    return new ApiError(response.status, body.error, String(body.message ?? ''), fields);
  }
  return new ApiError(response.status, 'http_error', `HTTP ${response.status} ${response.statusText}`);
}

/**
 * Calls the public REST API with the signed-in key (or `token`) as the bearer
 * token. Resolves to the parsed body (undefined for a 204); rejects with an
 * ApiError carrying the API's own code, message and field errors, or with
 * code `network_error` when the server could not be reached.
 */
export async function request<T>(
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  { body, query, token }: { body?: unknown; query?: Query; token?: string } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const bearer = token ?? storedToken();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(withQuery(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(
      0,
      'network_error',
      'The API could not be reached. Check your connection and try again.',
    );
  }
  if (!response.ok) throw await toApiError(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T>(path: string, query?: Query) => request<T>('GET', path, { query });
export const post = <T>(path: string, body?: unknown) => request<T>('POST', path, { body });
export const patch = <T>(path: string, body: unknown) => request<T>('PATCH', path, { body });
export const del = (path: string) => request<void>('DELETE', path);

/**
 * Every item of a list, following next_cursor (for the small lists the
 * dashboard needs whole, such as sender addresses for a select). Stops after
 * `maxPages` pages of 100.
 */
export async function getAll<T>(path: string, query: Query = {}, maxPages = 20): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < maxPages; page += 1) {
    const answer = await get<Page<T>>(path, { ...query, limit: 100, cursor });
    items.push(...answer.data);
    if (!answer.next_cursor) break;
    cursor = answer.next_cursor;
  }
  return items;
}
