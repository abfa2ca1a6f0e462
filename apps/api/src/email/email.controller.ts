import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { z } from 'zod';
import { Access, CurrentCaller } from '../auth/access.decorator.js';
import type { Caller } from '../auth/caller.js';
import {
  listMessagesQuery,
  messageIdParam,
  messageListView,
  messageView,
  previewTemplateBody,
  previewView,
  putTemplateBody,
  queuedView,
  sendEmailBody,
  templateListView,
  templateNameParam,
  templateView,
} from './email.dto.js';
import { EmailTemplatesService } from './email-templates.service.js';
import { EmailService } from './email.service.js';

@ApiTags('email')
@Access('admin')
@Controller('email')
export class EmailController {
  constructor(
    private readonly email: EmailService,
    private readonly templates: EmailTemplatesService,
  ) {}

  @Post('send')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Queue an email: { to, subject, text?, html? } or { to, template, data } (1-50 recipients)',
  })
  @ApiResponse({ status: 202, standardSchema: queuedView, description: 'Stored and queued; the worker delivers it' })
  send(@CurrentCaller() caller: Caller, @Body({ schema: sendEmailBody }) body: z.output<typeof sendEmailBody>) {
    return this.email.send(body, caller);
  }

  @Get('messages')
  @ApiOperation({ summary: 'The delivery log, newest first (filter by status and recipient, cursor paging)' })
  @ApiResponse({ status: 200, standardSchema: messageListView })
  listMessages(@Query({ schema: listMessagesQuery }) query: z.output<typeof listMessagesQuery>) {
    return this.email.listMessages(query);
  }

  @Get('messages/:id')
  @ApiOperation({ summary: 'One email with its bodies, status, attempts and last SMTP reply' })
  @ApiResponse({ status: 200, standardSchema: messageView })
  getMessage(@Param('id', { schema: messageIdParam }) id: string) {
    return this.email.getMessage(id);
  }

  @Post('messages/:id/retry')
  @HttpCode(202)
  @ApiOperation({ summary: 'Queue a failed email again, with a fresh set of attempts' })
  @ApiResponse({ status: 202, standardSchema: messageView })
  retryMessage(@Param('id', { schema: messageIdParam }) id: string) {
    return this.email.retry(id);
  }

  @Get('templates')
  @ApiOperation({ summary: 'Every template: the built-in ones (possibly overridden) and your own' })
  @ApiResponse({ status: 200, standardSchema: templateListView })
  listTemplates() {
    return this.templates.list();
  }

  @Get('templates/:name')
  @ApiOperation({ summary: 'One template ({{variable}} placeholders)' })
  @ApiResponse({ status: 200, standardSchema: templateView })
  getTemplate(@Param('name', { schema: templateNameParam }) name: string) {
    return this.templates.get(name);
  }

  @Put('templates/:name')
  @ApiOperation({ summary: 'Create or replace a template (a built-in name overrides the default)' })
  @ApiResponse({ status: 200, standardSchema: templateView })
  putTemplate(
    @CurrentCaller() caller: Caller,
    @Param('name', { schema: templateNameParam }) name: string,
    @Body({ schema: putTemplateBody }) body: z.output<typeof putTemplateBody>,
  ) {
    return this.templates.put(name, body, caller);
  }

  @Delete('templates/:name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a template (for a built-in one: back to the default)' })
  async deleteTemplate(@Param('name', { schema: templateNameParam }) name: string): Promise<void> {
    await this.templates.remove(name);
  }

  @Post('templates/:name/preview')
  @HttpCode(200)
  @ApiOperation({ summary: 'Render a template (or an unsaved draft) with sample data, or the data given' })
  @ApiResponse({ status: 200, standardSchema: previewView })
  preview(
    @Param('name', { schema: templateNameParam }) name: string,
    @Body({ schema: previewTemplateBody }) body: z.output<typeof previewTemplateBody>,
  ) {
    return this.templates.preview(name, body);
  }
}
