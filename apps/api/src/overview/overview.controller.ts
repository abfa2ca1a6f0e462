import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.decorator.js';
import { overviewView } from './overview.dto.js';
import { OverviewService } from './overview.service.js';

@ApiTags('admin')
@Access('admin')
@Controller('admin/overview')
export class OverviewController {
  constructor(private readonly overview: OverviewService) {}

  @Get()
  @ApiOperation({ summary: 'Activity for the dashboard: counts, runs and emails of the last 24 h, queue depth, recent failures' })
  @ApiResponse({ status: 200, standardSchema: overviewView })
  get() {
    return this.overview.overview();
  }
}
