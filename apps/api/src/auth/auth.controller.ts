import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { Access, CurrentCaller } from './access.decorator.js';
import {
  acceptedView,
  authResult,
  deleteMeBody,
  emailBody,
  emailChangeBody,
  idParam,
  loginBody,
  magicLinkRequestBody,
  passwordResetBody,
  refreshBody,
  revokedView,
  sessionList,
  signupBody,
  tokenBody,
  updateMeBody,
  userView,
} from './auth.dto.js';
import type { z } from 'zod';
import { AuthService, type ClientInfo } from './auth.service.js';
import { signInResult } from './mfa/mfa.dto.js';
import type { Caller } from './caller.js';

export function clientOf(request: FastifyRequest): ClientInfo {
  // request.ip honours X-Forwarded-For only when TRUST_PROXY is set. The user agent is
  // stored with the session: control characters (and what Postgres cannot store) go.
  const userAgent = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof userAgent === 'string' ? userAgent.replace(/[\p{Cc}\p{Cs}]/gu, '') : undefined };
}

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('signup')
  @ApiOperation({ summary: 'Create an account with email and password; sends a verification email' })
  @ApiResponse({ status: 201, standardSchema: authResult })
  signup(@Body({ schema: signupBody }) body: z.infer<typeof signupBody>, @Req() req: FastifyRequest) {
    return this.auth.signup(body, clientOf(req));
  }

  @Post('anonymous')
  @ApiOperation({ summary: 'Start a guest session: a real user id with no credential yet (rate-limited per IP; upgrade it later, keeping its data)' })
  @ApiResponse({ status: 201, standardSchema: authResult })
  signInAnonymously(@Req() req: FastifyRequest) {
    return this.auth.signInAnonymously(clientOf(req));
  }

  @Post('anonymous/upgrade')
  @HttpCode(200)
  @Access('user')
  @ApiOperation({ summary: 'Turn the signed-in guest into an email + password account (same id, sessions and data; a verification email follows)' })
  @ApiResponse({ status: 200, standardSchema: userView })
  upgradeAnonymous(@CurrentCaller() caller: Caller, @Body({ schema: signupBody }) body: z.infer<typeof signupBody>, @Req() req: FastifyRequest) {
    return this.auth.upgradeAnonymous(caller, body, clientOf(req));
  }

  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with email and password' })
  @ApiResponse({ status: 200, standardSchema: signInResult })
  login(@Body({ schema: loginBody }) body: z.infer<typeof loginBody>, @Req() req: FastifyRequest) {
    return this.auth.login(body, clientOf(req));
  }

  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'Exchange a refresh token for new tokens (rotation; reuse revokes the session)' })
  @ApiResponse({ status: 200, standardSchema: authResult })
  refresh(@Body({ schema: refreshBody }) body: z.infer<typeof refreshBody>, @Req() req: FastifyRequest) {
    return this.auth.refresh(body.refreshToken, clientOf(req));
  }

  @Post('logout')
  @HttpCode(204)
  @Access('user')
  @ApiOperation({ summary: 'End the current session' })
  @ApiResponse({ status: 204, description: 'Signed out' })
  async logout(@CurrentCaller() caller: Caller): Promise<void> {
    await this.auth.logout(caller);
  }

  @Post('logout-all')
  @HttpCode(200)
  @Access('user')
  @ApiOperation({ summary: 'End every session of the signed-in user' })
  @ApiResponse({ status: 200, standardSchema: revokedView })
  async logoutAll(@CurrentCaller() caller: Caller): Promise<{ revoked: number }> {
    return { revoked: await this.auth.logoutAll(caller) };
  }

  @Get('me')
  @Access('user')
  @ApiOperation({ summary: 'The signed-in user' })
  @ApiResponse({ status: 200, standardSchema: userView })
  me(@CurrentCaller() caller: Caller) {
    return this.auth.me(caller);
  }

  @Patch('me')
  @Access('user')
  @ApiOperation({
    summary: 'Edit the profile (displayName, userMetadata) and/or change the password (with currentPassword; ends every other session and outstanding reset and magic links)',
  })
  @ApiResponse({ status: 200, standardSchema: userView })
  updateMe(@CurrentCaller() caller: Caller, @Body({ schema: updateMeBody }) body: z.infer<typeof updateMeBody>) {
    return this.auth.updateMe(caller, body);
  }

  @Delete('me')
  @HttpCode(204)
  @Access('user')
  @ApiOperation({
    summary: 'Delete the signed-in account (currentPassword required when it has one); sessions and tokens go with it, owned documents and files stay (docs/auth.md)',
  })
  @ApiResponse({ status: 204, description: 'The account is deleted' })
  async deleteMe(@CurrentCaller() caller: Caller, @Body({ schema: deleteMeBody }) body: z.infer<typeof deleteMeBody>, @Req() req: FastifyRequest): Promise<void> {
    await this.auth.deleteMe(caller, body.currentPassword, clientOf(req));
  }

  @Post('email-change')
  @HttpCode(202)
  @Access('user')
  @ApiOperation({ summary: 'Change the email address: a confirmation link goes to the new address (currentPassword required when the account has one)' })
  @ApiResponse({ status: 202, standardSchema: acceptedView })
  async requestEmailChange(@CurrentCaller() caller: Caller, @Body({ schema: emailChangeBody }) body: z.infer<typeof emailChangeBody>) {
    await this.auth.requestEmailChange(caller, body.email, body.currentPassword);
    return { status: 'accepted' };
  }

  @Post('email-change/confirm')
  @HttpCode(200)
  @ApiOperation({ summary: 'Confirm an email change with the token mailed to the new address' })
  @ApiResponse({ status: 200, standardSchema: userView })
  confirmEmailChange(@Body({ schema: tokenBody }) body: z.infer<typeof tokenBody>, @Req() req: FastifyRequest) {
    return this.auth.confirmEmailChange(body.token, clientOf(req));
  }

  @Get('sessions')
  @Access('user')
  @ApiOperation({ summary: 'Active sessions of the signed-in user' })
  @ApiResponse({ status: 200, standardSchema: sessionList })
  sessions(@CurrentCaller() caller: Caller) {
    return this.auth.listSessions(caller);
  }

  @Delete('sessions/:id')
  @HttpCode(204)
  @Access('user')
  @ApiOperation({ summary: 'End one session of the signed-in user' })
  @ApiResponse({ status: 204, description: 'The session is ended' })
  async revokeSession(@CurrentCaller() caller: Caller, @Param('id', { schema: idParam }) id: string): Promise<void> {
    await this.auth.revokeSession(caller, id);
  }

  @Post('verify-email/request')
  @HttpCode(202)
  @Access('user')
  @ApiOperation({ summary: 'Send (again) the verification email to the signed-in user' })
  @ApiResponse({ status: 202, standardSchema: acceptedView })
  async requestVerification(@CurrentCaller() caller: Caller): Promise<{ status: 'accepted' }> {
    await this.auth.requestVerification(caller);
    return { status: 'accepted' };
  }

  @Post('verify-email')
  @HttpCode(200)
  @ApiOperation({ summary: 'Confirm an email address with the token from the email' })
  @ApiResponse({ status: 200, standardSchema: userView })
  verifyEmail(@Body({ schema: tokenBody }) body: z.infer<typeof tokenBody>, @Req() req: FastifyRequest) {
    return this.auth.verifyEmail(body.token, clientOf(req));
  }

  @Post('password-reset/request')
  @HttpCode(202)
  @ApiOperation({ summary: 'Email a password-reset link (answers 202 whether or not the account exists)' })
  @ApiResponse({ status: 202, standardSchema: acceptedView })
  async requestPasswordReset(@Body({ schema: emailBody }) body: z.infer<typeof emailBody>, @Req() req: FastifyRequest) {
    await this.auth.requestPasswordReset(body.email, clientOf(req));
    return { status: 'accepted' };
  }

  @Post('password-reset')
  @HttpCode(204)
  @ApiOperation({ summary: 'Set a new password with the token from the email; ends every session and outstanding email link' })
  @ApiResponse({ status: 204, description: 'The password is changed' })
  async resetPassword(@Body({ schema: passwordResetBody }) body: z.infer<typeof passwordResetBody>, @Req() req: FastifyRequest) {
    await this.auth.resetPassword(body.token, body.password, clientOf(req));
  }

  @Post('magic-link/request')
  @HttpCode(202)
  @ApiOperation({ summary: 'Email a sign-in link (answers 202 whether or not the account exists)' })
  @ApiResponse({ status: 202, standardSchema: acceptedView })
  async requestMagicLink(@Body({ schema: magicLinkRequestBody }) body: z.infer<typeof magicLinkRequestBody>, @Req() req: FastifyRequest) {
    await this.auth.requestMagicLink(body.email, clientOf(req), body.redirectTo);
    return { status: 'accepted' };
  }

  @Post('magic-link/verify')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with the token from a magic-link email' })
  @ApiResponse({ status: 200, standardSchema: signInResult })
  verifyMagicLink(@Body({ schema: tokenBody }) body: z.infer<typeof tokenBody>, @Req() req: FastifyRequest) {
    return this.auth.verifyMagicLink(body.token, clientOf(req));
  }
}
