import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Patch, Post, Put, Query, Res } from '@nestjs/common';
import { KeyArea } from '../../auth/api-key-scopes.js';
import { ApiHeader, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Access, CurrentCaller } from '../../auth/access.decorator.js';
import type { Caller } from '../../auth/caller.js';
import { ETAG_HEADER, IF_MATCH_HEADER, LOCATION_HEADER } from '../../common/api-docs.js';
import { etagMatches } from '../../common/conditional.js';
import {
  collectionNameParam,
  documentBody,
  documentIdParam,
  documentList,
  documentView,
  listQuery,
  type ListQuery,
  projectedDocumentView,
  readQuery,
  type ReadQuery,
} from './documents.dto.js';
import type { Doc } from './doc-view.js';
import { DocumentsService, parseIfMatch } from './documents.service.js';

const ifMatchHeader = IF_MATCH_HEADER;
const INDEX_ADVICE_HEADER = {
  'x-index-advice': {
    description: 'Present when no index serves part of the filter or sort: what to index (or search) so that the list stays fast on a large collection',
    schema: { type: 'string' as const },
  },
};

function withEtag(reply: FastifyReply, doc: Doc): Doc {
  void reply.header('etag', `"${doc.version}"`);
  return doc;
}

/** Documents of a runtime collection. Every route is open; the collection's rules and each document's acl decide. */
@ApiTags('documents')
@Access('public')
@KeyArea('collections')
@Controller('collections/:name/documents')
export class DocumentsController {
  constructor(private readonly documents: DocumentsService) {}

  @Post()
  @ApiOperation({ summary: 'Create a document (the caller becomes its owner)' })
  @ApiResponse({ status: 201, standardSchema: documentView, headers: { ...ETAG_HEADER, ...LOCATION_HEADER } })
  async create(
    @CurrentCaller() caller: Caller,
    @Param('name', { schema: collectionNameParam }) name: string,
    @Body({ schema: documentBody }) body: Record<string, unknown>,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Doc> {
    const doc = await this.documents.create(caller, name, body);
    void reply.header('location', `/v1/collections/${name}/documents/${doc.id}`);
    return withEtag(reply, doc);
  }

  @Get()
  @ApiOperation({ summary: 'List documents: filter, sort, cursor paging, count, projection, expansion' })
  @ApiResponse({ status: 200, standardSchema: documentList, headers: INDEX_ADVICE_HEADER })
  async list(
    @CurrentCaller() caller: Caller,
    @Param('name', { schema: collectionNameParam }) name: string,
    @Query({ schema: listQuery }) query: ListQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { page, advice } = await this.documents.list(caller, name, query);
    if (advice.length) void reply.header('x-index-advice', advice.join('; '));
    return page;
  }

  @Get(':id')
  @ApiOperation({ summary: 'One document (404 also when the caller may not read it)' })
  @ApiResponse({ status: 200, standardSchema: projectedDocumentView, headers: ETAG_HEADER })
  @ApiResponse({ status: 304, description: 'Not modified: `If-None-Match` names the current version (after the read check)', headers: ETAG_HEADER })
  async get(
    @CurrentCaller() caller: Caller,
    @Param('name', { schema: collectionNameParam }) name: string,
    @Param('id', { schema: documentIdParam }) id: string,
    @Query({ schema: readQuery }) query: ReadQuery,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Doc | undefined> {
    // An expanded document also changes when a referenced one does, so its version cannot
    // be its ETag: the gateway then derives a strong one from the bytes (gateway.plugin.ts).
    // Otherwise a current If-None-Match is answered 304 before the document is shaped.
    const doc =
      query.expand || !ifNoneMatch
        ? await this.documents.get(caller, name, id, query)
        : await this.documents.getUnlessCurrent(caller, name, id, query, (version) => etagMatches(ifNoneMatch, `"${version}"`));
    if (typeof doc === 'number') {
      void reply.code(304).header('etag', `"${doc}"`);
      return undefined;
    }
    return query.expand ? doc : withEtag(reply, doc);
  }

  @Put(':id')
  @ApiOperation({ summary: 'Replace a document (If-Match: its version), or create it with this id when there is none (201, if the create rule allows)' })
  @ApiHeader(ifMatchHeader)
  @ApiResponse({ status: 200, standardSchema: documentView, headers: ETAG_HEADER })
  @ApiResponse({ status: 201, standardSchema: documentView, headers: { ...ETAG_HEADER, ...LOCATION_HEADER } })
  async replace(
    @CurrentCaller() caller: Caller,
    @Param('name', { schema: collectionNameParam }) name: string,
    @Param('id', { schema: documentIdParam }) id: string,
    @Body({ schema: documentBody }) body: Record<string, unknown>,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Doc> {
    const { doc, created } = await this.documents.upsert(caller, name, id, body, parseIfMatch(ifMatch));
    if (created) void reply.status(201).header('location', `/v1/collections/${name}/documents/${doc.id}`);
    return withEtag(reply, doc);
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change some fields of a document (null removes one; If-Match: its version)' })
  @ApiHeader(ifMatchHeader)
  @ApiResponse({ status: 200, standardSchema: documentView, headers: ETAG_HEADER })
  async patch(
    @CurrentCaller() caller: Caller,
    @Param('name', { schema: collectionNameParam }) name: string,
    @Param('id', { schema: documentIdParam }) id: string,
    @Body({ schema: documentBody }) body: Record<string, unknown>,
    @Headers('if-match') ifMatch: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Doc> {
    return withEtag(reply, await this.documents.update(caller, name, id, body, 'patch', parseIfMatch(ifMatch)));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a document (If-Match: its version)' })
  @ApiHeader(ifMatchHeader)
  @ApiResponse({ status: 204, description: 'Deleted' })
  async remove(
    @CurrentCaller() caller: Caller,
    @Param('name', { schema: collectionNameParam }) name: string,
    @Param('id', { schema: documentIdParam }) id: string,
    @Headers('if-match') ifMatch: string | undefined,
  ): Promise<void> {
    await this.documents.remove(caller, name, id, parseIfMatch(ifMatch));
  }
}
