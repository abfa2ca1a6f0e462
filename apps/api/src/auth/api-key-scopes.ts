import { SetMetadata } from '@nestjs/common';
import { AppException } from '../common/app-exception.js';
import type { Caller } from './caller.js';

/** The areas a scoped API key can be limited to, plus `read-only` (GET and HEAD only). */
export const API_KEY_AREAS = ['collections', 'storage', 'functions'] as const;
export type ApiKeyArea = (typeof API_KEY_AREAS)[number];
export const API_KEY_SCOPES = [...API_KEY_AREAS, 'read-only'] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

export const KEY_AREA = 'baas:key-area';
/** Which area a controller's routes belong to, for scoped API keys (routes without one: unscoped keys only). */
export const KeyArea = (area: ApiKeyArea) => SetMetadata(KEY_AREA, area);

/**
 * Whether a service caller's scopes let it call a route of `area` with `method`. A key with
 * no scopes has full service access (as keys made before scopes existed). A scoped key reaches
 * only the collections, storage and functions areas (never admin, email or auth routes); area
 * scopes narrow that to the listed areas, and `read-only` to GET and HEAD.
 */
export function assertKeyScope(caller: Caller, area: ApiKeyArea | undefined, method: string): void {
  if (caller.kind !== 'service' || !caller.scopes?.length) return;
  const scopes = caller.scopes;
  const areas = scopes.filter((s) => s !== 'read-only');
  const areaOk = area !== undefined && (areas.length === 0 || areas.includes(area));
  const methodOk = !scopes.includes('read-only') || method === 'GET' || method === 'HEAD';
  if (!areaOk || !methodOk) {
    throw new AppException(403, 'API_KEY_SCOPE', `This API key's scopes (${scopes.join(', ')}) do not allow this request`);
  }
}
