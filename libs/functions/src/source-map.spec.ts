import { transformSync } from '@swc/core';
import { describe, expect, it } from 'vitest';
import { mapStack, parseSourceMap } from './source-map.js';

function compile(source: string): { code: string; map: string } {
  const out = transformSync(source, {
    filename: 'function.ts',
    swcrc: false,
    configFile: false,
    isModule: true,
    sourceMaps: true,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs', strict: true },
  });
  return { code: out.code, map: out.map! };
}

describe('mapStack', () => {
  const source = "interface A { x: number }\n\nexport default async (e: A) => {\n  throw new Error('boom');\n};";
  const { code, map } = compile(source);
  // The sandbox wraps the code with one line of prefix.
  const scriptLine = code.split('\n').findIndex((l) => l.includes('throw new Error')) + 2;
  const column = code.split('\n')[scriptLine - 2]!.indexOf('new Error') + 1;

  it('points frames of the transpiled script at the source line and column', () => {
    const stack = `Error: boom\n    at _default (file:///function.js:${scriptLine}:${column})`;
    expect(scriptLine).not.toBe(4 + 1); // the transpiled line differs from the source line
    expect(mapStack(stack, parseSourceMap(map))).toBe('Error: boom\n    at _default (function.ts:4:9)');
  });

  it('leaves stacks alone without a map, with an unreadable map, and frames the map does not cover', () => {
    const stack = `Error: boom\n    at x (file:///function.js:${scriptLine}:${column})`;
    expect(mapStack(stack, null)).toBe(stack);
    expect(mapStack(stack, parseSourceMap('not json'))).toBe(stack);
    expect(mapStack('Error\n    at y (file:///function.js:1:1)', parseSourceMap(map))).toBe('Error\n    at y (file:///function.js:1:1)');
  });
});
