import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { KeyArea } from '../../auth/api-key-scopes.js';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Access, CurrentCaller } from '../../auth/access.decorator.js';
import type { Caller } from '../../auth/caller.js';
import { batchBody, type BatchBody, batchResult } from './documents.dto.js';
import { BatchService } from './batch.service.js';

@ApiTags('documents')
@Access('public')
@KeyArea('collections')
@Controller('batch')
export class BatchController {
  constructor(private readonly batch: BatchService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({ summary: 'Run several document operations; transaction: true applies all or none' })
  @ApiResponse({ status: 200, standardSchema: batchResult })
  run(@CurrentCaller() caller: Caller, @Body({ schema: batchBody }) body: BatchBody) {
    return this.batch.run(caller, body);
  }
}
