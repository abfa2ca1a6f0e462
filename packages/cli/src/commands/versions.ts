import type { Context } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';

/** `versions <name>`: every deployed version of a function, newest first, with what made it. */
export async function versions(ctx: Context, name: string): Promise<void> {
  const list = await ctx.functions.versions(name);
  ctx.out.result({ function: name, versions: list }, () => {
    const c = ctx.out.color;
    for (const v of list) {
      const origin = v.rollbackOf !== null ? `rollback of v${v.rollbackOf}` : 'deploy';
      const http = v.triggers.filter((t) => t.type === 'http').map((t) => `http (${(t as { access?: string }).access ?? 'authenticated'})`);
      const others = v.triggers.filter((t) => t.type !== 'http').map((t) => t.type);
      ctx.out.line(`v${v.version}  ${c.dim(v.createdAt)}  ${origin}  ${[...http, ...others].join(', ') || 'no triggers'}`);
    }
  });
}

/** `rollback <name> <version>`: makes that version's code and settings current again (a new version; secrets stay). */
export async function rollback(ctx: Context, name: string, version: string): Promise<void> {
  if (!/^[1-9][0-9]{0,8}$/.test(version)) throw new CliError(`The version must be a positive whole number (got ${version})`, EXIT.USAGE);
  const result = await ctx.functions.rollback(name, Number(version));
  ctx.out.result({ function: name, version: result.version, rollbackOf: result.rollbackOf }, () => {
    ctx.out.line(`${name} → v${result.version}: the code and settings of v${result.rollbackOf ?? version} (secrets unchanged)`);
  });
}
