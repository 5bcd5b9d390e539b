import type { SelectQueryBuilder } from 'typeorm';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { ValidationFailedError } from '../errors';
import { isUuid } from '../ids';
import { isStorableString } from '../validation/input-rules';

/** `limit` and `cursor` of every list. Documented explicitly: the Swagger plugin only reads `*.dto.ts` files. */
export class PageQueryDto {
  @ApiPropertyOptional({ description: 'Page size, 1-100.', minimum: 1, maximum: 100, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 50;

  @ApiPropertyOptional({ description: "Opaque cursor from a previous page's `next_cursor`." })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  cursor?: string;
}

/** Position in a list ordered by (created_at DESC, id DESC); every listed table has uuid ids. */
export interface Cursor {
  createdAt: Date;
  id: string;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt.toISOString(), cursor.id])).toString('base64url');
}

/**
 * Exactly the form encodeCursor writes (Date#toISOString), for years from 1970
 * to 9999: every date such a cursor can hold is one PostgreSQL can store
 * (`-100000-01-01` or `+275760-09-13` are not).
 */
const CURSOR_DATE = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const MIN_CURSOR_YEAR = 1970;

const malformedCursor = () =>
  new ValidationFailedError([{ field: 'cursor', message: 'cursor is malformed' }]);

function cursorDate(at: unknown): Date | null {
  const match = typeof at === 'string' ? CURSOR_DATE.exec(at) : null;
  if (!match || Number(match[1]) < MIN_CURSOR_YEAR) return null;
  const date = new Date(match[0]);
  return !Number.isNaN(date.getTime()) && date.toISOString() === match[0] ? date : null;
}

/**
 * Decodes an opaque cursor; a malformed one is a 422 on the `cursor` field.
 * Ids are uuids unless the list is keyed by something else (`isValidId`);
 * either way they are strings PostgreSQL can store.
 */
export function decodeCursor(
  raw: string | undefined,
  isValidId: (id: string) => boolean = isUuid,
): Cursor | null {
  if (raw === undefined) return null;
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw malformedCursor();
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) throw malformedCursor();
  const [at, id] = decoded as unknown[];
  const createdAt = cursorDate(at);
  if (!createdAt || !isStorableString(id) || !isValidId(id)) throw malformedCursor();
  return { createdAt, id };
}

/**
 * Builds a page from rows fetched with `limit + 1`: the extra row only tells
 * that a next page exists.
 */
export function toPage<R extends { createdAt: Date; id: string }, T>(
  rows: R[],
  limit: number,
  map: (row: R) => T,
): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    data: items.map(map),
    next_cursor: rows.length > limit && last ? encodeCursor(last) : null,
  };
}

/**
 * One page of an entity query, newest first: orders by (created_at, id),
 * applies the cursor and fetches one row more than the page to know whether
 * a next page exists. The query brings its own workspace filter.
 */
export async function listPage<E extends { createdAt: Date; id: string }, T>(
  query: SelectQueryBuilder<E>,
  page: { limit: number; cursor?: string },
  map: (entity: E) => T,
): Promise<Page<T>> {
  const cursor = decodeCursor(page.cursor);
  const alias = query.alias;
  query
    .orderBy(`${alias}.created_at`, 'DESC')
    .addOrderBy(`${alias}.id`, 'DESC')
    .limit(page.limit + 1);
  if (cursor) {
    query.andWhere(`(${alias}.created_at, ${alias}.id) < (:cursorAt, :cursorId)`, {
      cursorAt: cursor.createdAt,
      cursorId: cursor.id,
    });
  }
  return toPage(await query.getMany(), page.limit, map);
}
