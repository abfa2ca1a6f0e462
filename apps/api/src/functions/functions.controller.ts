import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import type { z } from 'zod';
import { Access, CurrentCaller } from '../auth/access.decorator.js';
import type { Caller } from '../auth/caller.js';
import {
  deployBody,
  functionName,
  invokeBody,
  invokeQuery,
  listFunctionsQuery,
  listRunsQuery,
  runIdParam,
} from './functions.dto.js';
import { FunctionsService } from './functions.service.js';

@ApiTags('functions')
@ApiBearerAuth()
@ApiSecurity('service-key')
@Controller('functions')
export class FunctionsController {
  constructor(private readonly functions: FunctionsService) {}

  @Get()
  @Access('admin')
  @ApiOperation({ summary: 'List deployed functions (current version of each)' })
  list(@Query({ schema: listFunctionsQuery }) query: z.infer<typeof listFunctionsQuery>) {
    return this.functions.list(query.limit, query.cursor);
  }

  @Get('runs')
  @Access('admin')
  @ApiOperation({ summary: 'List runs of all functions, newest first (filter by function, status, trigger, event)' })
  listAllRuns(@Query({ schema: listRunsQuery }) query: z.infer<typeof listRunsQuery>) {
    return this.functions.listRuns(query);
  }

  @Get('runs/:id')
  @Access('admin')
  @ApiOperation({ summary: 'One run: status, attempts, duration, logs, result or error' })
  getRun(@Param('id', { schema: runIdParam }) id: string) {
    return this.functions.getRun(id);
  }

  @Post('runs/:id/retry')
  @Access('admin')
  @HttpCode(202)
  @ApiOperation({ summary: 'Replay a dead, failed or timed-out run with the same event (a new run)' })
  retry(@Param('id', { schema: runIdParam }) id: string) {
    return this.functions.retry(id);
  }

  @Put(':name')
  @Access('admin')
  @ApiOperation({ summary: 'Deploy a function: a new version with its source, triggers, limits and secrets' })
  async deploy(
    @CurrentCaller() caller: Caller,
    @Param('name', { schema: functionName }) name: string,
    @Body({ schema: deployBody }) body: z.infer<typeof deployBody>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { created, view } = await this.functions.deploy(caller, name, body);
    void reply.status(created ? 201 : 200);
    return view;
  }

  @Get(':name')
  @Access('admin')
  @ApiOperation({ summary: 'A function with its current source (never its secrets)' })
  get(@Param('name', { schema: functionName }) name: string) {
    return this.functions.get(name);
  }

  @Delete(':name')
  @Access('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a function, its versions, schedules and runs' })
  async delete(@Param('name', { schema: functionName }) name: string): Promise<void> {
    await this.functions.delete(name);
  }

  @Get(':name/versions')
  @Access('admin')
  @ApiOperation({ summary: 'Every deployed version of a function, newest first' })
  versions(@Param('name', { schema: functionName }) name: string) {
    return this.functions.versions(name);
  }

  @Get(':name/runs')
  @Access('admin')
  @ApiOperation({ summary: 'Runs of one function, newest first (filter by status, trigger, event)' })
  runs(
    @Param('name', { schema: functionName }) name: string,
    @Query({ schema: listRunsQuery }) query: z.infer<typeof listRunsQuery>,
  ) {
    return this.functions.listRuns({ ...query, functionName: name });
  }

  @Post(':name/invoke')
  @Access('public')
  @ApiOperation({
    summary: 'Invoke a function: waits for its result, or with ?async=true answers 202 with the run id',
  })
  async invoke(
    @CurrentCaller() caller: Caller,
    @Param('name', { schema: functionName }) name: string,
    @Query({ schema: invokeQuery }) query: z.infer<typeof invokeQuery>,
    @Body({ schema: invokeBody }) body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { accepted, body: result } = await this.functions.invoke(caller, name, body, query.async);
    void reply.status(accepted ? 202 : 200);
    return result;
  }
}
