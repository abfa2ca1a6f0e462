import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { KeyArea } from '../auth/api-key-scopes.js';
import { ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { Access, CurrentCaller } from '../auth/access.decorator.js';
import type { Caller } from '../auth/caller.js';
import {
  callerRunView,
  deployBody,
  functionList,
  functionName,
  functionVersionList,
  functionView,
  invocationView,
  invokeBody,
  invokeQuery,
  listFunctionsQuery,
  listRunsQuery,
  patchBody,
  replayView,
  rollbackBody,
  runIdParam,
  runList,
  runView,
  usageQuery,
  usageView,
} from './functions.dto.js';
import { FunctionsService } from './functions.service.js';

@ApiTags('functions')
@KeyArea('functions')
@Controller('functions')
export class FunctionsController {
  constructor(private readonly functions: FunctionsService) {}

  @Get()
  @Access('admin')
  @ApiOperation({ summary: 'List deployed functions (current version of each)' })
  @ApiResponse({ status: 200, standardSchema: functionList })
  list(@Query({ schema: listFunctionsQuery }) query: z.infer<typeof listFunctionsQuery>) {
    return this.functions.list(query.limit, query.cursor);
  }

  @Get('runs')
  @Access('user')
  @ApiOperation({
    summary: 'List runs, newest first (filter by function, status, trigger, event): all of them for admins, a user\'s own invocations otherwise',
  })
  @ApiResponse({ status: 200, standardSchema: runList })
  listAllRuns(@CurrentCaller() caller: Caller, @Query({ schema: listRunsQuery }) query: z.infer<typeof listRunsQuery>) {
    return this.functions.listRuns(caller, query);
  }

  @Get('runs/:id')
  @Access('user')
  @ApiOperation({ summary: 'One run: status, attempts, duration, logs, result or error (a user reads the runs they invoked)' })
  @ApiResponse({ status: 200, standardSchema: z.union([runView, callerRunView]) })
  getRun(@CurrentCaller() caller: Caller, @Param('id', { schema: runIdParam }) id: string) {
    return this.functions.getRun(caller, id);
  }

  @Post('runs/:id/retry')
  @Access('admin')
  @HttpCode(202)
  @ApiOperation({ summary: 'Replay a dead, failed or timed-out run with the same event (a new run)' })
  @ApiResponse({ status: 202, standardSchema: replayView, description: 'A new run is queued' })
  retry(@Param('id', { schema: runIdParam }) id: string) {
    return this.functions.retry(id);
  }

  @Put(':name')
  @Access('admin')
  @ApiOperation({
    summary: 'Deploy a function: a new version with its source; settings left out keep their current values (defaults for a new function)',
  })
  @ApiResponse({ status: 201, standardSchema: functionView, description: 'The first version of a new function' })
  @ApiResponse({ status: 200, standardSchema: functionView, description: 'A new version of an existing function' })
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

  @Patch(':name')
  @Access('admin')
  @ApiOperation({ summary: 'Change settings (triggers, limits, secrets) without new code: a new version with the same code' })
  @ApiResponse({ status: 200, standardSchema: functionView })
  patch(
    @CurrentCaller() caller: Caller,
    @Param('name', { schema: functionName }) name: string,
    @Body({ schema: patchBody }) body: z.infer<typeof patchBody>,
  ) {
    return this.functions.patch(caller, name, body);
  }

  @Post(':name/rollback')
  @Access('admin')
  @HttpCode(200)
  @ApiOperation({ summary: 'Make an earlier version current again: a new version with its code and settings (secrets stay)' })
  @ApiResponse({ status: 200, standardSchema: functionView })
  rollback(
    @CurrentCaller() caller: Caller,
    @Param('name', { schema: functionName }) name: string,
    @Body({ schema: rollbackBody }) body: z.infer<typeof rollbackBody>,
  ) {
    return this.functions.rollback(caller, name, body.version);
  }

  @Get(':name')
  @Access('admin')
  @ApiOperation({ summary: 'A function with its current source (never its secrets)' })
  @ApiResponse({ status: 200, standardSchema: functionView })
  get(@Param('name', { schema: functionName }) name: string) {
    return this.functions.get(name);
  }

  @Delete(':name')
  @Access('admin')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a function, its versions, schedules and runs' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  async delete(@Param('name', { schema: functionName }) name: string): Promise<void> {
    await this.functions.delete(name);
  }

  @Get(':name/versions')
  @Access('admin')
  @ApiOperation({ summary: 'Every deployed version of a function, newest first' })
  @ApiResponse({ status: 200, standardSchema: functionVersionList })
  versions(@Param('name', { schema: functionName }) name: string) {
    return this.functions.versions(name);
  }

  @Get(':name/usage')
  @Access('admin')
  @ApiOperation({ summary: 'Metering per day (UTC): attempts, cold starts, wall and CPU time, memory, GB-seconds' })
  @ApiResponse({ status: 200, standardSchema: usageView })
  usage(@Param('name', { schema: functionName }) name: string, @Query({ schema: usageQuery }) query: z.infer<typeof usageQuery>) {
    return this.functions.usage(name, query);
  }

  @Get(':name/runs')
  @Access('user')
  @ApiOperation({ summary: 'Runs of one function, newest first (filter by status, trigger, event); a user sees their own invocations' })
  @ApiResponse({ status: 200, standardSchema: runList })
  runs(
    @CurrentCaller() caller: Caller,
    @Param('name', { schema: functionName }) name: string,
    @Query({ schema: listRunsQuery }) query: z.infer<typeof listRunsQuery>,
  ) {
    return this.functions.listRuns(caller, { ...query, functionName: name });
  }

  @Post(':name/invoke')
  @Access('public')
  @ApiOperation({
    summary: 'Invoke a function: waits for its result, or with ?async=true answers 202 with the run id',
  })
  @ApiBody({ required: false, schema: {}, description: 'any JSON: becomes event.payload (null when absent)' })
  @ApiResponse({ status: 200, standardSchema: invocationView, description: 'The run finished (succeeded, failed or timed out)' })
  @ApiResponse({ status: 202, standardSchema: invocationView, description: 'With ?async=true, or when the run did not finish in time: the run is queued or running' })
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
