import { existsSync, statSync } from 'node:fs';
import { dirname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { APP_CONFIG, type AppConfig } from '#libs/config';

/** Where the SPA is served; outside `/v1`, so it never meets the api's routing. */
export const DASHBOARD_PATH = '/admin';

/** `dist/dashboard` of the project, found from this file whether it runs from src or dist. */
export function defaultDashboardDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'dist', 'dashboard');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/** A file of the build below `root`, or undefined (never a path outside it). */
function builtFile(root: string, relative: string): string | undefined {
  const path = normalize(join(root, relative));
  if (!path.startsWith(root + sep)) return undefined;
  try {
    return statSync(path).isFile() ? path.slice(root.length + 1) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `GET /admin/*`: the dashboard's static build. Hashed assets (`/admin/assets/*`) are cached
 * for a year as immutable; every other path that is not a file is a route of the SPA and
 * gets `index.html`, never cached, so a new deploy is picked up on the next load.
 * A plain Fastify route (like the signed-upload route) registered in its own plugin scope.
 */
@Injectable()
export class DashboardRoute implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    if (!this.config.DASHBOARD_ENABLED) return;
    const root = normalize(this.config.DASHBOARD_DIR ?? defaultDashboardDir() ?? join(process.cwd(), 'dist', 'dashboard'));
    const fastify = this.adapterHost.httpAdapter.getInstance<FastifyInstance>();
    // Not awaited, for the reason given in signed-upload.route.ts.
    void fastify.register(async (scope) => {
      await scope.register(fastifyStatic, { root, serve: false });
      const index = (reply: FastifyReply) => {
        if (!builtFile(root, 'index.html')) {
          return reply
            .status(503)
            .type('text/plain; charset=utf-8')
            .header('cache-control', 'no-store')
            .send('The dashboard is not built: run `npm run build` (apps/dashboard → dist/dashboard).\n');
        }
        return reply.header('cache-control', 'no-cache').sendFile('index.html', { cacheControl: false });
      };
      scope.get(DASHBOARD_PATH, async (_request, reply) => reply.redirect(`${DASHBOARD_PATH}/`, 301));
      scope.get(`${DASHBOARD_PATH}/*`, async (request, reply) => {
        const rest = (request.params as { '*': string })['*'];
        const file = rest ? builtFile(root, rest) : undefined;
        if (file === undefined || file === 'index.html') {
          // A missing hashed asset is a 404, not the SPA (a stale tab after a deploy).
          if (rest.startsWith('assets/')) return reply.status(404).type('text/plain').send('Not found\n');
          return index(reply);
        }
        if (file.startsWith(`assets${sep}`)) {
          return reply.sendFile(file, { maxAge: '365d', immutable: true });
        }
        return reply.header('cache-control', 'no-cache').sendFile(file, { cacheControl: false });
      });
    });
  }
}
