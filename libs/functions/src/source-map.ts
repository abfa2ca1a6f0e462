import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';

/** Where the sandbox names the function's code in stack frames (host.ts compiles it under this name). */
const SCRIPT_URL = 'file:///function.js';
/** host.ts wraps the code in one line of prefix, so script line N is line N - 1 of the code. */
const WRAP_LINES = 1;
const FRAME = /file:\/\/\/function\.js:(\d+):(\d+)/g;

export type SourceMap = TraceMap;

/** A version's SWC source map (JSON text), null when absent or unreadable. */
export function parseSourceMap(text: string | null | undefined): SourceMap | null {
  if (!text) return null;
  try {
    return new TraceMap(text);
  } catch {
    return null;
  }
}

/**
 * Points a stack at the function's source: every `file:///function.js:<line>:<col>` of the
 * transpiled script becomes `<source name>:<line>:<col>` of the deployed source (TypeScript
 * or JavaScript), through the version's source map. Frames the map does not cover keep
 * their script position. Runs in the worker, never inside an isolate.
 */
export function mapStack(stack: string, map: SourceMap | null): string {
  if (!map || !stack.includes(SCRIPT_URL)) return stack;
  return stack.replace(FRAME, (whole, line: string, column: string) => {
    const codeLine = Number(line) - WRAP_LINES;
    if (codeLine < 1) return whole; // the sandbox's own wrapper line
    const pos = originalPositionFor(map, { line: codeLine, column: Math.max(0, Number(column) - 1) });
    if (pos.line === null || pos.source === null) return whole;
    return `${pos.source}:${pos.line}:${pos.column + 1}`;
  });
}
