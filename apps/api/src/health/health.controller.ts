import { Controller, Get, Res } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { livenessView, readinessView } from './health.dto.js';
import { HealthService, type Readiness } from './health.service.js';

@ApiTags('ops')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process is up and serving HTTP' })
  @ApiResponse({ status: 200, standardSchema: livenessView })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: Postgres, Redis and storage answer a real round trip' })
  @ApiResponse({ status: 200, description: 'Every check is up', standardSchema: readinessView })
  @ApiResponse({ status: 503, description: 'At least one check is down; the body names it', standardSchema: readinessView })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<Readiness & { status: 'ok' | 'unavailable' }> {
    const result = await this.health.readiness();
    if (!result.ready) void reply.status(503);
    return { status: result.ready ? 'ok' : 'unavailable', ...result };
  }
}
