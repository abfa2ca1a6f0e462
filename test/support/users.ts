import { randomUUID } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { SERVICE_KEY } from './config.js';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
  roles: string[];
}

export const TEST_PASSWORD = 'correct horse battery staple';

/**
 * A user made the way a real one is: signup over HTTP, roles set by the service key through
 * the admin API, then a login so the access token carries those roles.
 */
export async function createUser(
  app: NestFastifyApplication,
  options: { roles?: string[]; email?: string } = {},
): Promise<TestUser> {
  const email = options.email ?? `user-${randomUUID()}@example.test`;
  const server = app.getHttpServer();
  const signup = await request(server).post('/v1/auth/signup').send({ email, password: TEST_PASSWORD });
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.status} ${signup.text}`);
  const id = signup.body.user.id as string;
  const roles = options.roles ?? [];
  if (roles.length === 0) {
    return { id, email, password: TEST_PASSWORD, accessToken: signup.body.accessToken, refreshToken: signup.body.refreshToken, roles };
  }
  await request(server).patch(`/v1/admin/users/${id}`).set('x-api-key', SERVICE_KEY).send({ roles }).expect(200);
  const login = await request(server).post('/v1/auth/login').send({ email, password: TEST_PASSWORD }).expect(200);
  return { id, email, password: TEST_PASSWORD, accessToken: login.body.accessToken, refreshToken: login.body.refreshToken, roles };
}

export const bearer = (user: { accessToken: string }) => ({ Authorization: `Bearer ${user.accessToken}` });
