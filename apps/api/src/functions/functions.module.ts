import { Module } from '@nestjs/common';
import { FunctionsCompiler } from './functions.compiler.js';
import { FunctionsController } from './functions.controller.js';
import { FunctionsRepository } from './functions.repository.js';
import { FunctionResults } from './functions.results.js';
import { FunctionsService } from './functions.service.js';

/** Serverless functions: deploy, invoke, runs (docs/functions.md). Runs happen in the worker. */
@Module({
  controllers: [FunctionsController],
  providers: [FunctionsService, FunctionsRepository, FunctionsCompiler, FunctionResults],
})
export class FunctionsModule {}
