import { describe, expect, it } from 'vitest';
import { FunctionsCompiler } from './functions.compiler.js';

describe('FunctionsCompiler', () => {
  const compiler = new FunctionsCompiler();

  it('transpiles TypeScript to a CommonJS script with a default export', () => {
    const out = compiler.compile('interface E { n: number }\nexport default async (e: E) => e.n * 2;', 'ts');
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.code).not.toContain('interface');
    expect(out.code).toMatch(/exports/);
  });

  it('keeps imports, so a forbidden module fails at run time instead of vanishing', () => {
    const out = compiler.compile("import net from 'node:net';\nexport default () => 1;", 'ts');
    expect(out.ok && out.code).toContain('require("node:net")');
  });

  it("reports the transpiler's message without its backtrace", () => {
    const out = compiler.compile('export default () => { return {', 'js');
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.message).toMatch(/Expected/);
    expect(out.message).not.toMatch(/Caused by|backtrace/);
    expect(out.message).not.toContain('\u001b[');
  });

  it('catches with V8 the syntax errors the transpiler lets through', () => {
    const out = compiler.compile('export default () => { let a = 1; let a = 2; return a; }', 'js');
    expect(out).toMatchObject({ ok: false, message: expect.stringMatching(/SyntaxError/) });
  });

  it('rejects TypeScript syntax in a js function', () => {
    expect(compiler.compile('export default (e: number) => e;', 'js').ok).toBe(false);
  });
});
