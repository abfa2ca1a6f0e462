import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** One .dockerignore rule as a regular expression over context-relative paths. */
interface Rule {
  negate: boolean;
  pattern: RegExp;
}

/**
 * The rules of a .dockerignore file, read as Docker (BuildKit) does: paths relative to the
 * context root, `*` and `?` within one path segment, `**` across segments, `!` re-includes,
 * the last matching rule wins, and a rule matching a directory excludes what is inside it.
 */
export function dockerignoreRules(text: string): Rule[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const glob = (negate ? line.slice(1) : line).replace(/^\/+|\/+$/g, '');
      let source = '';
      for (let i = 0; i < glob.length; i++) {
        const c = glob[i]!;
        if (c === '*' && glob[i + 1] === '*') {
          source += '.*';
          i += glob[i + 2] === '/' ? 2 : 1;
          if (glob[i] === '/') source += '/?';
        } else if (c === '*') source += '[^/]*';
        else if (c === '?') source += '[^/]';
        else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
      }
      return { negate, pattern: new RegExp(`^${source}(/.*)?$`) };
    });
}

/** Whether `path` (relative, `/`-separated) is left out of the build context. */
export function ignored(rules: Rule[], path: string): boolean {
  let out = false;
  for (const rule of rules) if (rule.pattern.test(path)) out = !rule.negate;
  return out;
}

/** Copies `root`'s files into `target` as `docker build` would send them (its .dockerignore applied); returns their paths. */
export function copyBuildContext(root: string, target: string): string[] {
  const rules = dockerignoreRules(readFileSync(join(root, '.dockerignore'), 'utf8'));
  const copied: string[] = [];
  const walk = (relative: string) => {
    for (const entry of readdirSync(join(root, relative), { withFileTypes: true })) {
      const path = relative ? `${relative}/${entry.name}` : entry.name;
      // A directory is entered even when ignored if a `!` rule could re-include something in it.
      if (entry.isDirectory()) {
        if (!ignored(rules, path) || rules.some((r) => r.negate && r.pattern.source.startsWith(`^${path}/`))) walk(path);
      } else if (entry.isFile() && !ignored(rules, path)) {
        mkdirSync(dirname(join(target, path)), { recursive: true });
        copyFileSync(join(root, path), join(target, path));
        copied.push(path);
      }
    }
  };
  walk('');
  return copied;
}
