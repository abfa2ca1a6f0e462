import { Prisma } from './generated/client.js';

export interface MappedDbError {
  status: 404 | 409 | 400 | 503;
  code: string;
  message: string;
}

// Postgres SQLSTATEs (for raw SQL on the pg pool) next to their Prisma equivalents.
const PG_CODES: Record<string, MappedDbError> = {
  '23505': { status: 409, code: 'CONFLICT', message: 'A record with the same unique value already exists' },
  '23503': { status: 409, code: 'REFERENCE_CONFLICT', message: 'The record is referenced by, or references, a missing record' },
  '23502': { status: 400, code: 'VALIDATION_FAILED', message: 'A required value is missing' },
  '22P02': { status: 400, code: 'VALIDATION_FAILED', message: 'A value has the wrong format' },
  // The api checks values before they reach a query (U+0000, surrogates, ranges); these are
  // the last line, so a value that slips through is still the client's 400, never a 500.
  '22001': { status: 400, code: 'VALIDATION_FAILED', message: 'A value is too long' },
  '22003': { status: 400, code: 'VALIDATION_FAILED', message: 'A number is out of range' },
  '22007': { status: 400, code: 'VALIDATION_FAILED', message: 'A date or time has the wrong format' },
  '22008': { status: 400, code: 'VALIDATION_FAILED', message: 'A date or time is out of range' },
  '22021': { status: 400, code: 'VALIDATION_FAILED', message: 'A text value holds a character that cannot be stored' },
  '22P05': { status: 400, code: 'VALIDATION_FAILED', message: 'A text value holds a character that cannot be stored' },
  '54000': { status: 400, code: 'VALIDATION_FAILED', message: 'A value is too large' },
  // statement_timeout (DATA_QUERY_TIMEOUT_MS on document reads): the query was stopped.
  '57014': { status: 503, code: 'QUERY_TIMEOUT', message: 'The query took too long and was stopped; narrow the filter or add an index' },
};

const PRISMA_CODES: Record<string, MappedDbError> = {
  P2002: PG_CODES['23505']!,
  P2003: PG_CODES['23503']!,
  P2025: { status: 404, code: 'NOT_FOUND', message: 'The record was not found' },
  P2001: { status: 404, code: 'NOT_FOUND', message: 'The record was not found' },
};

/**
 * Maps database errors to a stable HTTP answer without leaking SQL, table names or values.
 * Returns undefined for anything that is not a recognised database error.
 */
export function mapDatabaseError(err: unknown): MappedDbError | undefined {
  if (err instanceof Prisma.PrismaClientKnownRequestError) {
    return PRISMA_CODES[err.code];
  }
  if (err instanceof Prisma.PrismaClientInitializationError) {
    return { status: 503, code: 'DATABASE_UNAVAILABLE', message: 'The database is not reachable' };
  }
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') {
    if (err.code in PG_CODES && 'severity' in err) return PG_CODES[err.code];
    if (err.code === 'ECONNREFUSED') {
      return { status: 503, code: 'DATABASE_UNAVAILABLE', message: 'The database is not reachable' };
    }
  }
  return undefined;
}

/** The SQLSTATE (and constraint) of a Postgres error from the pg driver, else undefined. */
export function pgErrorOf(err: unknown): { code: string; constraint?: string } | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err) || !('severity' in err) || typeof err.code !== 'string') return undefined;
  const constraint = 'constraint' in err && typeof err.constraint === 'string' ? err.constraint : undefined;
  return { code: err.code, constraint };
}

/**
 * Whether `err` is a unique violation, from raw SQL (23505) or Prisma (P2002); with
 * `constraint`, only a violation of that constraint (raw SQL errors name it).
 */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  if (err instanceof Prisma.PrismaClientKnownRequestError) return err.code === 'P2002' && constraint === undefined;
  const pgErr = pgErrorOf(err);
  return pgErr?.code === '23505' && (constraint === undefined || pgErr.constraint === constraint);
}
