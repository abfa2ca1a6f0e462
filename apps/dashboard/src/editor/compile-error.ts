/** Where a deploy's COMPILE_FAILED message points (SWC's diagnostic format), 1-based. */
export interface CompileLocation {
  line: number;
  column: number;
  message: string;
}

export function compileLocation(message: string): CompileLocation | undefined {
  const at = /\[function\.[jt]s:(\d+):(\d+)\]/.exec(message);
  if (!at) return undefined;
  const line = Number(at[1]);
  const lines = message.split('\n');
  let column = Number(at[2]);
  // The caret line (`   :      ^`) under the numbered line gives the column.
  const numbered = lines.findIndex((l) => new RegExp(`^\\s*${line} \\|`).test(l));
  const caret = numbered >= 0 ? lines[numbered + 1] : undefined;
  if (numbered >= 0 && caret && /^\s*:\s*\^/.test(caret)) {
    const bar = lines[numbered]!.indexOf('|');
    column = Math.max(1, caret.indexOf('^') - (bar + 2) + 1);
  }
  const first = lines.find((l) => /^\s*x /.test(l))?.replace(/^\s*x\s*/, '') ?? lines[0]!.trim();
  return { line, column, message: first };
}
