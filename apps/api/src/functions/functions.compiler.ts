import { Script } from 'node:vm';
import { transformSync } from '@swc/core';
import { Injectable } from '@nestjs/common';

/** `map` is the source map of `code` (JSON text), so the worker can point stacks at source lines. */
export type CompileResult = { ok: true; code: string; map: string | null } | { ok: false; message: string };

// eslint-disable-next-line no-control-regex -- strips the ANSI colour codes of SWC's diagnostics
const ANSI = /\u001b\[[0-9;]*m/g;

/**
 * Turns a function's source (TypeScript or JavaScript, an ES module with a default export)
 * into the CommonJS script the sandbox runs, and checks its syntax. Compiling is all that
 * happens here: the api never runs user code (node:vm's Script only parses).
 */
@Injectable()
export class FunctionsCompiler {
  compile(source: string, language: 'js' | 'ts'): CompileResult {
    let code: string;
    let map: string | null;
    try {
      const out = transformSync(source, {
        filename: language === 'ts' ? 'function.ts' : 'function.js',
        swcrc: false,
        configFile: false,
        isModule: true,
        sourceMaps: true,
        inlineSourcesContent: false, // the version keeps its source already
        jsc: {
          parser: language === 'ts' ? { syntax: 'typescript' } : { syntax: 'ecmascript' },
          target: 'es2022',
          // Keep imports the code does not use as values, so a forbidden import fails loudly.
          transform: { verbatimModuleSyntax: true },
        },
        module: { type: 'commonjs', strict: true },
      });
      code = out.code;
      map = out.map ?? null;
    } catch (err) {
      return { ok: false, message: swcMessage(err) };
    }
    try {
      // Parsed as the sandbox will wrap it; a SyntaxError SWC let through (e.g. a redeclared
      // `let`) is reported with V8's message.
      new Script(`(function (module, exports, require) {${code}\n})`, { filename: 'function.js' });
    } catch (err) {
      return { ok: false, message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
    }
    return { ok: true, code, map };
  }
}

/** SWC's diagnostic without its Rust backtrace or colours. */
function swcMessage(err: unknown): string {
  const text = (err instanceof Error ? err.message : String(err)).replace(ANSI, '');
  const cut = text.search(/\n\s*\nCaused by:|\n\s*Stack backtrace:/);
  return (cut === -1 ? text : text.slice(0, cut)).trim().slice(0, 4000);
}
