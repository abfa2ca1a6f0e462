import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { KeyArea } from '../auth/api-key-scopes.js';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { Access } from '../auth/access.decorator.js';
import {
  collectionList,
  collectionNameParam,
  collectionView,
  createCollectionBody,
  deleteCollectionQuery,
  updateCollectionBody,
} from './collections.dto.js';
import { type CollectionView, CollectionsService } from './collections.service.js';
import type { CreateCollectionBody, UpdateCollectionBody } from './definition.js';

@ApiTags('collections')
@Access('admin')
@KeyArea('collections')
@Controller('collections')
export class CollectionsController {
  constructor(private readonly collections: CollectionsService) {}

  @Post()
  @ApiOperation({ summary: 'Define a collection: typed fields, indexes and access rules (creates its table)' })
  @ApiResponse({ status: 201, standardSchema: collectionView })
  create(@Body({ schema: createCollectionBody }) body: CreateCollectionBody): Promise<CollectionView> {
    return this.collections.create(body);
  }

  @Get()
  @ApiOperation({ summary: 'List collection definitions' })
  @ApiResponse({ status: 200, standardSchema: collectionList })
  list() {
    return this.collections.list();
  }

  @Get(':name')
  @ApiOperation({ summary: 'One collection definition' })
  @ApiResponse({ status: 200, standardSchema: collectionView })
  get(@Param('name', { schema: collectionNameParam }) name: string): Promise<CollectionView> {
    return this.collections.get(name);
  }

  @Patch(':name')
  @ApiOperation({ summary: 'Change fields, indexes or rules (checked against the stored documents)' })
  @ApiResponse({ status: 200, standardSchema: collectionView })
  update(
    @Param('name', { schema: collectionNameParam }) name: string,
    @Body({ schema: updateCollectionBody }) body: UpdateCollectionBody,
  ): Promise<CollectionView> {
    return this.collections.update(name, body);
  }

  @Delete(':name')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a collection and its table (force=true when it still has documents)' })
  async remove(
    @Param('name', { schema: collectionNameParam }) name: string,
    @Query({ schema: deleteCollectionQuery }) query: { force: boolean },
  ): Promise<void> {
    await this.collections.remove(name, query.force);
  }
}
