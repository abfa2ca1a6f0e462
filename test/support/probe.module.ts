import { Body, Controller, Get, Module, Param, Post, Query } from '@nestjs/common';
import { z } from 'zod';
import { PrismaService } from '#libs/database';

const createEventBody = z.object({
  id: z.uuid().optional(),
  type: z.string().min(1).max(50),
  payload: z.record(z.string(), z.json()),
});

/**
 * Routes that exist only in tests, to drive the api's shared machinery (validation pipe,
 * error filter, database error mapping, graceful shutdown) through real HTTP.
 */
@Controller('probe')
class ProbeController {
  constructor(private readonly prisma: PrismaService) {}

  @Post('events')
  async create(@Body({ schema: createEventBody }) body: z.infer<typeof createEventBody>) {
    return this.prisma.outboxEvent.create({ data: { id: body.id, type: body.type, payload: body.payload } });
  }

  @Get('events/:id')
  async get(@Param('id', { schema: z.uuid() }) id: string) {
    return this.prisma.outboxEvent.findUniqueOrThrow({ where: { id } });
  }

  @Get('crash')
  crash(): never {
    throw new Error('secret internal detail at /srv/app/private.ts SELECT * FROM users');
  }

  @Get('slow')
  async slow(@Query('ms', { schema: z.coerce.number().int().min(0).max(5000) }) ms: number) {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { sleptMs: ms };
  }
}

@Module({ controllers: [ProbeController] })
export class ProbeModule {}
