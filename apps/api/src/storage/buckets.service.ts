import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { conflict, validationFailed } from '../common/app-exception.js';
import type { BucketView, CreateBucketBody, UpdateBucketBody } from './storage.dto.js';
import { StorageRepository } from './storage.repository.js';
import { bucketRuleIssues, type BucketRules } from './storage.rules.js';
import { bucketNotFound, toBucketView } from './storage.views.js';

/** Buckets (admin): create, replace rules, list. */
@Injectable()
export class BucketsService {
  constructor(
    private readonly repo: StorageRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async createBucket(body: CreateBucketBody): Promise<BucketView> {
    checkRules(body.rules ?? null);
    if (body.maxFileSize !== null && body.maxFileSize > this.config.STORAGE_MAX_FILE_SIZE_BYTES) {
      throw validationFailed('The request is not valid', [
        { path: 'maxFileSize', message: `must be at most ${this.config.STORAGE_MAX_FILE_SIZE_BYTES} (the platform limit)` },
      ]);
    }
    const row = await this.repo.createBucket(body);
    if (!row) throw conflict('BUCKET_EXISTS', 'A bucket with this name already exists');
    return toBucketView(row);
  }

  /** Replaces a bucket's rules (admin). */
  async updateBucket(name: string, body: UpdateBucketBody): Promise<BucketView> {
    checkRules(body.rules);
    const row = await this.repo.setBucketRules(name, body.rules);
    if (!row) throw bucketNotFound();
    return toBucketView(row);
  }

  async listBuckets(): Promise<{ items: BucketView[]; nextCursor: null }> {
    return { items: (await this.repo.listBuckets()).map(toBucketView), nextCursor: null };
  }
}

function checkRules(rules: BucketRules | null): void {
  const issues = rules ? bucketRuleIssues(rules) : [];
  if (issues.length) throw validationFailed('The request is not valid', issues);
}
