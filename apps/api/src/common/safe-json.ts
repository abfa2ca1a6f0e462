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
 * Walks a parsed JSON value (iteratively, so a deeply nested body cannot overflow the stack)
 * and returns the first forbidden key or excessive nesting it finds.
 */
export function findUnsafeJson(value: unknown, maxDepth = MAX_JSON_DEPTH): JsonIssue | undefined {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (path.length >= maxDepth) return { path, message: `is nested deeper than ${maxDepth} levels` };
    if (Array.isArray(current)) {
      current.forEach((item, i) => stack.push({ value: item, path: [...path, i] }));
      continue;
    }
    for (const key of Object.keys(current)) {
      if (FORBIDDEN_KEYS.has(key)) return { path: [...path, key], message: `the key "${key}" is not allowed` };
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
