import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query, Req, Res } from '@nestjs/common';
import { KeyArea } from '../auth/api-key-scopes.js';
import { ApiBody, ApiConsumes, ApiHeaders, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { Access, CurrentCaller } from '../auth/access.decorator.js';
import type { Caller } from '../auth/caller.js';
import { CONTENT_HEADERS, CONTENT_RANGE_HEADER, ETAG_HEADER, RANGE_HEADERS } from '../common/api-docs.js';
import { uploadParts } from './multipart.js';
import {
  bucketList,
  bucketNameSchema,
  bucketView,
  contentQuery,
  createBucketBody,
  downloadUrlResult,
  fileIdSchema,
  fileList,
  fileView,
  listFilesQuery,
  signedQuery,
  updateBucketBody,
  updateFileBody,
  uploadUrlBody,
  uploadUrlResult,
} from './storage.dto.js';
import { BucketsService } from './buckets.service.js';
import { type Download, DownloadService } from './download.service.js';
import { PresignedUploadService } from './presigned-upload.service.js';
import { StorageService } from './storage.service.js';
import { UploadService } from './upload.service.js';

function conditionalOf(request: FastifyRequest) {
  const one = (name: string) => {
    const value = request.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  return { range: one('range'), ifNoneMatch: one('if-none-match'), ifModifiedSince: one('if-modified-since'), ifRange: one('if-range') };
}

function send(reply: FastifyReply, download: Download): FastifyReply {
  return reply.status(download.status).headers(download.headers).send(download.body ?? '');
}

const truthy = (v: string | undefined) => v === 'true' || v === '1';

@ApiTags('storage')
@KeyArea('storage')
@Controller('storage')
export class StorageController {
  constructor(
    private readonly buckets: BucketsService,
    private readonly files: StorageService,
    private readonly uploads: UploadService,
    private readonly presigned: PresignedUploadService,
    private readonly downloads: DownloadService,
  ) {}

  @Post('buckets')
  @Access('admin')
  @ApiOperation({ summary: 'Create a bucket (admin): public or private, max file size, allowed MIME types' })
  @ApiResponse({ status: 201, standardSchema: bucketView })
  createBucket(@Body({ schema: createBucketBody }) body: z.infer<typeof createBucketBody>) {
    return this.buckets.createBucket(body);
  }

  @Patch('buckets/:bucket')
  @Access('admin')
  @ApiOperation({ summary: "Replace a bucket's rules (admin): create / update / delete rules over the file and the caller" })
  @ApiResponse({ status: 200, standardSchema: bucketView })
  updateBucket(@Param('bucket', { schema: bucketNameSchema }) bucket: string, @Body({ schema: updateBucketBody }) body: z.infer<typeof updateBucketBody>) {
    return this.buckets.updateBucket(bucket, body);
  }

  @Get('buckets')
  @Access('admin')
  @ApiOperation({ summary: 'List buckets (admin)' })
  @ApiResponse({ status: 200, standardSchema: bucketList })
  listBuckets() {
    return this.buckets.listBuckets();
  }

  @Post('buckets/:bucket/files')
  @Access('user')
  @ApiOperation({ summary: 'Upload a file (multipart/form-data: optional key and acl fields, then file), streamed' })
  @ApiConsumes('multipart/form-data')
  @ApiBody({
    schema: {
      type: 'object',
      required: ['file'],
      properties: {
        key: { type: 'string', description: 'key inside the bucket, e.g. avatars/me.png; default <id>/<file name>' },
        acl: { type: 'string', description: 'JSON {"read": [...], "write": [...]} with *, user:<id>, role:<name>' },
        file: { type: 'string', format: 'binary' },
      },
    },
  })
  @ApiResponse({ status: 201, standardSchema: fileView })
  upload(
    @CurrentCaller() caller: Caller,
    @Param('bucket', { schema: bucketNameSchema }) bucket: string,
    @Req() request: FastifyRequest,
  ) {
    return this.uploads.upload(caller, bucket, uploadParts(request));
  }

  @Get('buckets/:bucket/files')
  @Access('public')
  @ApiOperation({ summary: 'List the ready files of a bucket the caller may read, by key, under an optional prefix' })
  @ApiResponse({ status: 200, standardSchema: fileList })
  listFiles(
    @CurrentCaller() caller: Caller,
    @Param('bucket', { schema: bucketNameSchema }) bucket: string,
    @Query({ schema: listFilesQuery }) query: z.infer<typeof listFilesQuery>,
  ) {
    return this.files.listFiles(caller, bucket, query);
  }

  @Post('buckets/:bucket/upload-url')
  @Access('user')
  @ApiOperation({ summary: 'Start a presigned upload: a pending file and a URL to PUT its bytes to' })
  @ApiResponse({ status: 201, standardSchema: uploadUrlResult })
  uploadUrl(
    @CurrentCaller() caller: Caller,
    @Param('bucket', { schema: bucketNameSchema }) bucket: string,
    @Body({ schema: uploadUrlBody }) body: z.infer<typeof uploadUrlBody>,
  ) {
    return this.presigned.createUploadUrl(caller, bucket, body);
  }

  @Get('files/:id')
  @Access('public')
  @ApiOperation({ summary: 'File metadata (404 when missing or not readable)' })
  @ApiResponse({ status: 200, standardSchema: fileView })
  getFile(@CurrentCaller() caller: Caller, @Param('id', { schema: fileIdSchema }) id: string) {
    return this.files.getFile(caller, id);
  }

  @Patch('files/:id')
  @Access('user')
  @ApiOperation({ summary: "Change a file's acl and/or key (whoever may write it, within the bucket's update rule)" })
  @ApiResponse({ status: 200, standardSchema: fileView })
  updateFile(
    @CurrentCaller() caller: Caller,
    @Param('id', { schema: fileIdSchema }) id: string,
    @Body({ schema: updateFileBody }) body: z.infer<typeof updateFileBody>,
  ) {
    return this.files.updateFile(caller, id, body);
  }

  @Delete('files/:id')
  @HttpCode(204)
  @Access('user')
  @ApiOperation({ summary: 'Delete a file (owner, admins, service role, write ACL)' })
  @ApiResponse({ status: 204, description: 'Deleted' })
  async deleteFile(@CurrentCaller() caller: Caller, @Param('id', { schema: fileIdSchema }) id: string): Promise<void> {
    await this.files.deleteFile(caller, id);
  }

  @Get('files/:id/content')
  @Access('public')
  @ApiOperation({ summary: 'The file bytes, streamed; honours Range (206/416), If-None-Match, If-Modified-Since and If-Range' })
  @ApiProduces('application/octet-stream')
  @ApiHeaders(RANGE_HEADERS)
  @ApiResponse({ status: 200, description: 'The whole file', schema: { type: 'string', format: 'binary' }, headers: CONTENT_HEADERS })
  @ApiResponse({ status: 206, description: 'One byte range', schema: { type: 'string', format: 'binary' }, headers: { ...CONTENT_HEADERS, ...CONTENT_RANGE_HEADER } })
  @ApiResponse({ status: 304, description: 'Not modified: If-None-Match names the current ETag', headers: ETAG_HEADER })
  @ApiResponse({ status: 416, description: 'The range is malformed or outside the file', headers: CONTENT_RANGE_HEADER })
  async content(
    @CurrentCaller() caller: Caller,
    @Param('id', { schema: fileIdSchema }) id: string,
    @Query({ schema: contentQuery }) query: z.infer<typeof contentQuery>,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    return send(reply, await this.downloads.openContent(caller, id, conditionalOf(request), truthy(query.download)));
  }

  @Get('files/:id/download-url')
  @Access('public')
  @ApiOperation({ summary: 'A short-lived presigned URL to GET the file (same permission check as content)' })
  @ApiResponse({ status: 200, standardSchema: downloadUrlResult })
  downloadUrl(
    @CurrentCaller() caller: Caller,
    @Param('id', { schema: fileIdSchema }) id: string,
    @Query({ schema: contentQuery }) query: z.infer<typeof contentQuery>,
  ) {
    return this.downloads.downloadUrl(caller, id, truthy(query.download));
  }

  @Post('files/:id/complete')
  @HttpCode(200)
  @Access('user')
  @ApiOperation({ summary: 'Finish a presigned upload: checks the object (size, type) and marks the file ready' })
  @ApiResponse({ status: 200, standardSchema: fileView })
  complete(@CurrentCaller() caller: Caller, @Param('id', { schema: fileIdSchema }) id: string) {
    return this.presigned.complete(caller, id);
  }

  @Get('signed')
  @Access('public')
  @ApiOperation({ summary: 'Local-disk driver only: the object behind a signed download URL (Range supported)' })
  @ApiProduces('application/octet-stream')
  @ApiHeaders(RANGE_HEADERS)
  @ApiResponse({ status: 200, description: 'The whole object', schema: { type: 'string', format: 'binary' }, headers: CONTENT_HEADERS })
  @ApiResponse({ status: 206, description: 'One byte range', schema: { type: 'string', format: 'binary' }, headers: { ...CONTENT_HEADERS, ...CONTENT_RANGE_HEADER } })
  @ApiResponse({ status: 304, description: 'Not modified: If-None-Match names the current ETag', headers: ETAG_HEADER })
  @ApiResponse({ status: 416, description: 'The range is malformed or outside the object', headers: CONTENT_RANGE_HEADER })
  async signed(
    @Query({ schema: signedQuery }) query: z.infer<typeof signedQuery>,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<FastifyReply> {
    return send(reply, await this.downloads.openSigned(query.token, conditionalOf(request)));
  }
}
