import { z } from 'zod';

/** Keys that could reach an object's prototype chain: rejected anywhere in user JSON. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The deepest nesting accepted in user JSON (documents, filters, defaults). */
export const MAX_JSON_DEPTH = 32;

export interface JsonIssue {
  path: (string | number)[];
  message: string;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Why a string cannot be stored as given, or undefined when it can. Postgres text and jsonb
 * hold no U+0000, and a lone UTF-16 surrogate is not a character (Postgres refuses it in
 * jsonb; text would silently store U+FFFD instead). Every string of user input, keys and
 * values alike, passes this one check before it can reach a query.
 */
export function textProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'must not contain U+0000 (NUL)';
  if (!value.isWellFormed()) return 'must not contain unpaired UTF-16 surrogates';
  return undefined;
}

/** Why a number cannot be stored (JSON's 1e400 parses to Infinity), or undefined. */
export function numberProblem(value: number): string | undefined {
  return Number.isFinite(value) ? undefined : 'must be a finite number (at most about ±1.8e308)';
}

/** Timestamps this api accepts anywhere (years 1 to 9999): always inside Postgres' timestamptz range. */
export function isStorableDate(date: Date): boolean {
  const ms = date.getTime();
  if (Number.isNaN(ms)) return false;
  const year = date.getUTCFullYear();
  return year >= 1 && year <= 9999;
}

/**
 * Walks a parsed JSON value (iteratively, so a deeply nested body cannot overflow the stack)
 * and returns the first forbidden key, excessive nesting, string that cannot be stored
 * (textProblem) or non-finite number it finds. This is the one check every JSON input goes
 * through: request bodies, query strings and path parameters (the gateway's preHandler hook,
 * gateway.plugin.ts), JSON embedded in them (filters, cursors) and documents.
 */
export function findUnsafeJson(value: unknown, maxDepth = MAX_JSON_DEPTH): JsonIssue | undefined {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'string') {
      const problem = textProblem(current);
      if (problem) return { path, message: problem };
      continue;
    }
    if (typeof current === 'number') {
      const problem = numberProblem(current);
      if (problem) return { path, message: problem };
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (path.length >= maxDepth) return { path, message: `is nested deeper than ${maxDepth} levels` };
    if (Array.isArray(current)) {
      current.forEach((item, i) => stack.push({ value: item, path: [...path, i] }));
      continue;
    }
    for (const key of Object.keys(current)) {
      if (FORBIDDEN_KEYS.has(key)) return { path: [...path, key], message: `the key "${key}" is not allowed` };
      const keyProblem = textProblem(key);
      if (keyProblem) return { path: [...path, key], message: `the key ${keyProblem}` };
      stack.push({ value: (current as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
  return undefined;
}

function refineSafe(value: unknown, ctx: z.RefinementCtx): void {
  const issue = findUnsafeJson(value);
  if (issue) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
}

/** Any JSON value, with forbidden keys and excessive nesting rejected. */
export const safeJsonValue = z.unknown().superRefine(refineSafe);

/** A JSON object with arbitrary keys (a document body), checked like safeJsonValue. */
export const safeJsonObject = z.record(z.string(), z.unknown()).superRefine(refineSafe);
