import { Injectable } from '@nestjs/common';
import { ApiKeysRepository } from '../auth/api-keys.repository.js';
import { actorLabel, type Caller } from '../auth/caller.js';
import { LiveSessionService } from '../auth/live-session.service.js';
import { hashPassword } from '../auth/password.js';
import { hashToken, newOpaqueToken } from '../auth/token.service.js';
import { conflict, notFound } from '../common/app-exception.js';
import { decodeCursor, pageOf } from '../common/paging.js';
import { timeIdCursor, timeIdPosition } from '../common/time-id-cursor.js';
import type { CreateApiKeyBody, CreateUserBody, ListUsersQuery, UpdateUserBody } from './admin.dto.js';
import { AdminRepository } from './admin.repository.js';

const userNotFound = () => notFound('USER_NOT_FOUND', 'No such user');

/** Admin user management and service API keys. */
@Injectable()
export class AdminService {
  constructor(
    private readonly repo: AdminRepository,
    private readonly apiKeys: ApiKeysRepository,
    private readonly sessions: LiveSessionService,
  ) {}

  async listUsers(query: ListUsersQuery) {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, timeIdPosition);
    return pageOf(await this.repo.listUsers(query.search, query.limit + 1, after), query.limit, timeIdCursor);
  }

  async createUser(caller: Caller, body: CreateUserBody) {
    const passwordHash = body.password ? await hashPassword(body.password) : null;
    const user = await this.repo.createUser({ email: body.email, passwordHash, roles: body.roles, emailVerified: body.emailVerified }, actorLabel(caller));
    if (!user) throw conflict('EMAIL_TAKEN', 'An account with this email already exists');
    return user;
  }

  async getUser(id: string) {
    return (await this.repo.findUser(id)) ?? Promise.reject(userNotFound());
  }

  async updateUser(caller: Caller, id: string, body: UpdateUserBody) {
    const before = await this.getUser(id);
    const user = await this.repo.updateUser(id, body, { actor: actorLabel(caller), before });
    if (!user) throw userNotFound();
    // Roles and the disabled flag are read live on every request: drop the cached state everywhere.
    await this.sessions.invalidateUser(id);
    return user;
  }

  async revokeSessions(caller: Caller, id: string): Promise<{ revoked: number }> {
    await this.getUser(id);
    const revoked = await this.repo.revokeSessions(id, actorLabel(caller));
    // Sessions are checked live on every request: drop their cached state on every replica.
    await this.sessions.invalidateUser(id);
    return { revoked };
  }

  async deleteUser(caller: Caller, id: string): Promise<void> {
    const deleted = await this.repo.deleteUser(id, actorLabel(caller));
    await this.sessions.invalidateUser(id);
    if (!deleted) throw userNotFound();
  }

  /** A new service key; the secret is in this answer only, the database keeps its hash. */
  async createApiKey(caller: Caller, body: CreateApiKeyBody) {
    const key = newOpaqueToken('sk_');
    const creator = {
      userId: caller.kind === 'user' ? caller.userId : null,
      keyId: caller.kind === 'service' && caller.keyId !== 'bootstrap' ? caller.keyId : null,
    };
    const view = await this.apiKeys.create({
      name: body.name,
      prefix: key.slice(0, 7),
      keyHash: hashToken(key),
      createdBy: actorLabel(caller),
      creator,
      scopes: body.scopes,
      expiresAt: body.expiresAt ? new Date(body.expiresAt) : null,
    });
    return { ...view, key };
  }

  async listApiKeys() {
    return { items: await this.apiKeys.list(), nextCursor: null };
  }

  async revokeApiKey(id: string): Promise<void> {
    if (!(await this.apiKeys.revoke(id))) throw notFound('API_KEY_NOT_FOUND', 'No such active API key');
  }
}
