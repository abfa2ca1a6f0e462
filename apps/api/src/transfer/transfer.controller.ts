import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { Access, CurrentCaller } from '../auth/access.decorator.js';
import type { Caller } from '../auth/caller.js';
import { collectionNameParam } from '../collections/documents/documents.dto.js';
import { uploadParts } from '../storage/multipart.js';
import { bucketNameSchema, fileView } from '../storage/storage.dto.js';
import { UploadService } from '../storage/upload.service.js';
import { exportUsersQuery, importDocumentsBody, importResult, importUsersBody, importUsersResult, transferUserList } from './transfer.dto.js';
import { TransferService } from './transfer.service.js';

/**
 * Moving data between installations (`selfbaas export` / `import`): users with their password
 * hashes, documents and files with their ids, owners and timestamps. Admin or service key.
 * Collections, buckets and functions move through their ordinary routes.
 */
@ApiTags('admin')
@Access('admin')
@Controller('admin/transfer')
export class TransferController {
  constructor(
    private readonly transfer: TransferService,
    private readonly uploads: UploadService,
  ) {}

  @Get('users')
  @ApiOperation({ summary: 'Export users, in id order, with their argon2 password hashes (never a password); each page is audited' })
  @ApiResponse({ status: 200, standardSchema: transferUserList })
  exportUsers(@CurrentCaller() caller: Caller, @Query({ schema: exportUsersQuery }) query: z.infer<typeof exportUsersQuery>) {
    return this.transfer.exportUsers(caller, query);
  }

  @Post('users')
  @HttpCode(200)
  @ApiOperation({ summary: 'Import users as exported: same ids, emails, password hashes, roles and timestamps; existing ids or emails are skipped' })
  @ApiResponse({ status: 200, standardSchema: importUsersResult })
  importUsers(@CurrentCaller() caller: Caller, @Body({ schema: importUsersBody }) body: z.infer<typeof importUsersBody>) {
    return this.transfer.importUsers(caller, body.users);
  }

  @Post('collections/:name/documents')
  @HttpCode(200)
  @ApiOperation({ summary: 'Import documents as exported: same ids, owners, ACLs, versions and timestamps; no function runs; existing ids are skipped' })
  @ApiResponse({ status: 200, standardSchema: importResult })
  importDocuments(
    @Param('name', { schema: collectionNameParam }) name: string,
    @Body({ schema: importDocumentsBody }) body: z.infer<typeof importDocumentsBody>,
  ) {
    return this.transfer.importDocuments(name, body.documents);
  }

  @Post('buckets/:bucket/files')
  @ApiOperation({ summary: 'Import a file as exported (multipart/form-data: id, key, ownerId, createdAt, acl, then file); no function runs' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: {
        id: { type: 'string', format: 'uuid', description: 'the file id to keep' },
        key: { type: 'string', description: 'the key inside the bucket' },
        ownerId: { type: 'string', description: 'the owner user id, empty for none' },
        createdAt: { type: 'string', format: 'date-time' },
        acl: { type: 'string', description: 'JSON {"read": [...], "write": [...]}' },
        file: { type: 'string', format: 'binary' },
      },
    },
  })
  @ApiResponse({ status: 201, standardSchema: fileView })
  importFile(@CurrentCaller() caller: Caller, @Param('bucket', { schema: bucketNameSchema }) bucket: string, @Req() request: FastifyRequest) {
    return this.uploads.importFile(caller, bucket, uploadParts(request));
  }
}
