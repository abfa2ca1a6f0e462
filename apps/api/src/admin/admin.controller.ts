import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { Access, CurrentCaller } from '../auth/access.decorator.js';
import { idParam } from '../auth/auth.dto.js';
import type { Caller } from '../auth/caller.js';
import {
  adminUserList,
  adminUserView,
  apiKeyCreated,
  apiKeyList,
  createApiKeyBody,
  createUserBody,
  listUsersQuery,
  revokedView,
  updateUserBody,
} from './admin.dto.js';
import { AdminService } from './admin.service.js';

@ApiTags('admin')
@Access('admin')
@Controller('admin')
export class AdminController {
  constructor(private readonly admin: AdminService) {}

  @Get('users')
  @ApiOperation({ summary: 'List users (search by email, cursor paging)' })
  @ApiResponse({ status: 200, standardSchema: adminUserList })
  listUsers(@Query({ schema: listUsersQuery }) query: z.infer<typeof listUsersQuery>) {
    return this.admin.listUsers(query);
  }

  @Post('users')
  @ApiOperation({ summary: 'Create a user (no session is opened, no email sent; auth triggers run as for a signup)' })
  @ApiResponse({ status: 201, standardSchema: adminUserView })
  createUser(@CurrentCaller() caller: Caller, @Body({ schema: createUserBody }) body: z.infer<typeof createUserBody>) {
    return this.admin.createUser(caller, body);
  }

  @Get('users/:id')
  @ApiOperation({ summary: 'One user' })
  @ApiResponse({ status: 200, standardSchema: adminUserView })
  getUser(@Param('id', { schema: idParam }) id: string) {
    return this.admin.getUser(id);
  }

  @Patch('users/:id')
  @ApiOperation({ summary: 'Change roles, disable or enable, mark the email verified' })
  @ApiResponse({ status: 200, standardSchema: adminUserView })
  updateUser(
    @CurrentCaller() caller: Caller,
    @Param('id', { schema: idParam }) id: string,
    @Body({ schema: updateUserBody }) body: z.infer<typeof updateUserBody>,
  ) {
    return this.admin.updateUser(caller, id, body);
  }

  @Delete('users/:id/sessions')
  @HttpCode(200)
  @ApiOperation({ summary: "End every session of a user (their refresh tokens stop working; access tokens expire within JWT_ACCESS_TTL_SECONDS)" })
  @ApiResponse({ status: 200, standardSchema: revokedView })
  revokeSessions(@CurrentCaller() caller: Caller, @Param('id', { schema: idParam }) id: string) {
    return this.admin.revokeSessions(caller, id);
  }

  @Delete('users/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user and their sessions' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  async deleteUser(@CurrentCaller() caller: Caller, @Param('id', { schema: idParam }) id: string): Promise<void> {
    await this.admin.deleteUser(caller, id);
  }

  @Post('api-keys')
  @ApiOperation({ summary: 'Create a service API key (shown in this answer only; works while its creator may)' })
  @ApiResponse({ status: 201, standardSchema: apiKeyCreated })
  createApiKey(@CurrentCaller() caller: Caller, @Body({ schema: createApiKeyBody }) body: z.infer<typeof createApiKeyBody>) {
    return this.admin.createApiKey(caller, body);
  }

  @Get('api-keys')
  @ApiOperation({ summary: 'List service API keys (never their secrets)' })
  @ApiResponse({ status: 200, standardSchema: apiKeyList })
  listApiKeys() {
    return this.admin.listApiKeys();
  }

  @Delete('api-keys/:id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a service API key' })
  @ApiResponse({ status: 204, description: 'Revoked' })
  async revokeApiKey(@Param('id', { schema: idParam }) id: string): Promise<void> {
    await this.admin.revokeApiKey(id);
  }
}
