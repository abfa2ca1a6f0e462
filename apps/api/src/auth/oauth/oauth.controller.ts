import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Redirect, Req, Res } from '@nestjs/common';
import { ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { Inject } from '@nestjs/common';
import { Access, CurrentCaller } from '../access.decorator.js';
import { clientOf } from '../auth.controller.js';
import { idParam } from '../auth.dto.js';
import { signInResult } from '../mfa/mfa.dto.js';
import type { Caller } from '../caller.js';
import {
  authorizeQuery,
  exchangeBody,
  formPostBody,
  identityList,
  idTokenBody,
  linkBody,
  linkStarted,
  providerBody,
  providerIdParam,
  providerList,
  providerView,
  publicProviderList,
} from './oauth.dto.js';
import { OAUTH_COOKIE, OAuthService } from './oauth.service.js';

/** The flow's browser-binding cookie: only the OAuth routes see it, scripts never. */
function flowCookie(config: AppConfig, value: string, maxAge: number): string {
  const secure = config.PUBLIC_URL.startsWith('https:') ? '; Secure' : '';
  return `${OAUTH_COOKIE}=${value}; Path=/v1/auth/oauth; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure}`;
}

function cookieOf(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return rest.join('=');
  }
  return undefined;
}

@ApiTags('auth')
@Controller('auth')
export class OAuthController {
  constructor(
    private readonly oauth: OAuthService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('providers')
  @ApiOperation({ summary: 'The enabled sign-in providers (for sign-in buttons)' })
  @ApiResponse({ status: 200, standardSchema: publicProviderList })
  providers() {
    return this.oauth.publicProviders();
  }

  @Get('oauth/:provider/authorize')
  @Redirect()
  @ApiOperation({ summary: 'Start signing in with a provider: redirects the browser to it (redirectTo must be on AUTH_REDIRECT_URLS)' })
  @ApiResponse({ status: 302, description: 'To the provider' })
  async authorize(
    @Param('provider', { schema: providerIdParam }) provider: string,
    @Query({ schema: authorizeQuery }) query: z.infer<typeof authorizeQuery>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const linkUserId = query.link ? await this.oauth.linkTicketUser(query.link) : undefined;
    const { url, browser } = await this.oauth.start(provider, query.redirectTo, linkUserId);
    void reply.header('set-cookie', flowCookie(this.config, browser, 600));
    void reply.header('cache-control', 'no-store');
    return { url, statusCode: 302 };
  }

  @Get('oauth/:provider/callback')
  @Redirect()
  @ApiOperation({ summary: 'The redirect URI to register with the provider; sends the browser back to the app with ?code= (or ?error=)' })
  @ApiResponse({ status: 302, description: 'To the app\'s redirectTo' })
  async callback(
    @Param('provider', { schema: providerIdParam }) provider: string,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    const current = new URL(`${this.oauth.callbackUrl(provider)}${query}`);
    const browser = cookieOf(req, OAUTH_COOKIE);
    void reply.header('set-cookie', flowCookie(this.config, '', 0));
    void reply.header('cache-control', 'no-store');
    void reply.header('referrer-policy', 'no-referrer');
    const url = await this.oauth.callback(provider, current, browser, clientOf(req));
    return { url, statusCode: 302 };
  }

  @Post('oauth/:provider/callback')
  @Redirect()
  @ApiOperation({
    summary:
      'The callback of a provider using response_mode=form_post (Apple): takes its x-www-form-urlencoded answer and redirects (303) to the GET callback on this origin, where the flow cookie is checked',
  })
  @ApiConsumes('application/x-www-form-urlencoded')
  @ApiResponse({ status: 303, description: 'To GET /v1/auth/oauth/{provider}/callback with the answer in the query' })
  formPostCallback(
    @Param('provider', { schema: providerIdParam }) provider: string,
    @Body({ schema: formPostBody }) body: z.infer<typeof formPostBody>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    // A cross-site form POST carries no SameSite=Lax cookie; the GET it is sent on to is a
    // top-level navigation on this origin that does, so state, cookie, PKCE and nonce are all
    // checked there, exactly as for a query answer (docs/decisions.md).
    const url = new URL(this.oauth.callbackUrl(provider));
    for (const [key, value] of Object.entries(body)) if (value !== undefined) url.searchParams.set(key, value);
    void reply.header('cache-control', 'no-store');
    void reply.header('referrer-policy', 'no-referrer');
    return { url: url.toString(), statusCode: 303 };
  }

  @Post('oauth/exchange')
  @HttpCode(200)
  @ApiOperation({ summary: 'Trade the one-time code from the redirect for a session' })
  @ApiResponse({ status: 200, standardSchema: signInResult })
  exchange(@Body({ schema: exchangeBody }) body: z.infer<typeof exchangeBody>, @Req() req: FastifyRequest) {
    return this.oauth.exchange(body.code, clientOf(req));
  }

  @Post('oauth/:provider/id-token')
  @HttpCode(200)
  @ApiOperation({ summary: 'Native sign-in with an ID token from the provider\'s SDK (verified against its JWKS, audience and nonce)' })
  @ApiResponse({ status: 200, standardSchema: signInResult })
  idToken(
    @Param('provider', { schema: providerIdParam }) provider: string,
    @Body({ schema: idTokenBody }) body: z.infer<typeof idTokenBody>,
    @Req() req: FastifyRequest,
  ) {
    return this.oauth.signInWithIdToken(provider, body.idToken, body.nonce, clientOf(req));
  }

  @Get('identities')
  @Access('user')
  @ApiOperation({ summary: 'The provider identities linked to the signed-in account' })
  @ApiResponse({ status: 200, standardSchema: identityList })
  identities(@CurrentCaller() caller: Caller) {
    return this.oauth.listIdentities(caller);
  }

  @Post('identities/:provider/link')
  @HttpCode(200)
  @Access('user')
  @ApiOperation({ summary: 'Start linking a provider to the signed-in account: open the returned URL in the browser' })
  @ApiResponse({ status: 200, standardSchema: linkStarted })
  link(
    @CurrentCaller() caller: Caller,
    @Param('provider', { schema: providerIdParam }) provider: string,
    @Body({ schema: linkBody }) body: z.infer<typeof linkBody>,
  ) {
    return this.oauth.startLink(caller, provider, body.redirectTo);
  }

  @Delete('identities/:id')
  @HttpCode(204)
  @Access('user')
  @ApiOperation({ summary: 'Unlink an identity (not the last way to sign in: 409 LAST_SIGN_IN_METHOD)' })
  @ApiResponse({ status: 204, description: 'Unlinked' })
  async unlink(@CurrentCaller() caller: Caller, @Param('id', { schema: idParam }) id: string): Promise<void> {
    await this.oauth.unlink(caller, id);
  }
}

@ApiTags('admin')
@Access('admin')
@Controller('admin/auth-providers')
export class AuthProvidersController {
  constructor(private readonly oauth: OAuthService) {}

  @Get()
  @ApiOperation({ summary: 'Sign-in providers (client secrets are never returned)' })
  @ApiResponse({ status: 200, standardSchema: providerList })
  list() {
    return this.oauth.listProviders();
  }

  @Get(':id')
  @ApiOperation({ summary: 'One sign-in provider' })
  @ApiResponse({ status: 200, standardSchema: providerView })
  get(@Param('id', { schema: providerIdParam }) id: string) {
    return this.oauth.getProvider(id);
  }

  @Put(':id')
  @ApiOperation({ summary: 'Create or replace a sign-in provider (the client secret is stored encrypted)' })
  @ApiResponse({ status: 200, standardSchema: providerView })
  put(@Param('id', { schema: providerIdParam }) id: string, @Body({ schema: providerBody }) body: z.infer<typeof providerBody>) {
    return this.oauth.putProvider(id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a sign-in provider (its users keep their accounts; their identities stop working until it is added again)' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  async remove(@Param('id', { schema: providerIdParam }) id: string): Promise<void> {
    await this.oauth.deleteProvider(id);
  }
}
