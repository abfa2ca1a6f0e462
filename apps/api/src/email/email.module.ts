import { Global, Module } from '@nestjs/common';
import { EmailTemplatesService } from './email-templates.service.js';
import { EmailController } from './email.controller.js';
import { EmailRepository } from './email.repository.js';
import { EmailService } from './email.service.js';

/** Email: the outbox (EmailService, injectable anywhere), delivery log and templates. */
@Global()
@Module({
  controllers: [EmailController],
  providers: [EmailService, EmailTemplatesService, EmailRepository],
  exports: [EmailService],
})
export class EmailModule {}
