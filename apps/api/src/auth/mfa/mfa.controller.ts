import { Body, Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { Access, CurrentCaller } from '../access.decorator.js';
import { clientOf } from '../auth.controller.js';
import { authResult, idParam } from '../auth.dto.js';
import { actorOf, type Caller } from '../caller.js';
import { mfaCodeBody, mfaStatusView, mfaVerifyBody, recoveryCodesView, totpEnrolmentView } from './mfa.dto.js';
import { MfaService } from './mfa.service.js';

@ApiTags('auth')
@Controller('auth/mfa')
export class MfaController {
  constructor(private readonly mfa: MfaService) {}

  @Get()
  @Access('user')
  @ApiOperation({ summary: 'Second-factor status of the signed-in user' })
  @ApiResponse({ status: 200, standardSchema: mfaStatusView })
  status(@CurrentCaller() caller: Caller) {
    return this.mfa.status(caller);
  }

  @Post('totp')
  @HttpCode(200)
  @Access('user')
  @ApiOperation({ summary: 'Enrol a TOTP authenticator: a secret, its otpauth URL and a QR code (confirm with a code to enable it)' })
  @ApiResponse({ status: 200, standardSchema: totpEnrolmentView })
  enrol(@CurrentCaller() caller: Caller) {
    return this.mfa.enrol(caller);
  }

  @Post('totp/confirm')
  @HttpCode(200)
  @Access('user')
  @ApiOperation({ summary: 'Enable the enrolled TOTP factor with a first code; answers the recovery codes (shown once)' })
  @ApiResponse({ status: 200, standardSchema: recoveryCodesView })
  confirm(@CurrentCaller() caller: Caller, @Body({ schema: mfaCodeBody }) body: z.infer<typeof mfaCodeBody>, @Req() req: FastifyRequest) {
    return this.mfa.confirm(caller, body.code, clientOf(req));
  }

  @Delete('totp')
  @HttpCode(204)
  @Access('user')
  @ApiOperation({ summary: 'Disable the TOTP factor (needs a current code or a recovery code)' })
  @ApiResponse({ status: 204, description: 'Disabled' })
  async disable(@CurrentCaller() caller: Caller, @Body({ schema: mfaCodeBody }) body: z.infer<typeof mfaCodeBody>, @Req() req: FastifyRequest): Promise<void> {
    await this.mfa.disable(caller, body.code, clientOf(req));
  }

  @Post('verify')
  @HttpCode(200)
  @ApiOperation({ summary: 'Second step of a sign-in: the challenge token and a TOTP or recovery code → tokens with aal2' })
  @ApiResponse({ status: 200, standardSchema: authResult })
  verify(@Body({ schema: mfaVerifyBody }) body: z.infer<typeof mfaVerifyBody>, @Req() req: FastifyRequest) {
    return this.mfa.verifyChallenge(body.challengeToken, body.code, clientOf(req));
  }
}

@ApiTags('admin')
@Access('admin')
@Controller('admin/users')
export class AdminMfaController {
  constructor(private readonly mfa: MfaService) {}

  @Delete(':id/mfa')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a user\'s second factor and recovery codes (lost device)' })
  @ApiResponse({ status: 204, description: 'Removed' })
  async reset(@CurrentCaller() caller: Caller, @Param('id', { schema: idParam }) id: string): Promise<void> {
    const actor = actorOf(caller);
    await this.mfa.adminReset(actor.type === 'user' ? `user:${actor.id}` : actor.type === 'service' ? `service:${actor.keyId}` : 'anonymous', id);
  }
}
