import { Injectable, Logger } from '@nestjs/common';
import { mapDatabaseError, type Tx, withTransaction } from '#libs/database';
import type { Caller } from '../../auth/caller.js';
import { AppException, type ErrorDetail } from '../../common/app-exception.js';
import type { BatchBody, BatchOperation } from './documents.dto.js';
import { DocumentsRepository } from './documents.repository.js';
import type { Doc } from './doc-view.js';
import { DocumentsService } from './documents.service.js';

export interface BatchResult {
  status: number;
  document?: Doc;
  error?: { code: string; message: string; details?: ErrorDetail[] };
}

/** The client-facing form of an expected error; undefined for an unexpected one (it propagates: 500, logged). */
function expectedError(err: unknown): { status: number; code: string; message: string; details?: ErrorDetail[] } | undefined {
  if (err instanceof AppException) return { status: err.getStatus(), code: err.code, message: err.message, details: err.details };
  const db = mapDatabaseError(err);
  if (db && db.status < 500) return { status: db.status, code: db.code, message: db.message };
  return undefined;
}

/**
 * POST /batch: up to MAX_BATCH_OPERATIONS document operations, each checked exactly as the
 * single routes check it. `transaction: true` runs them on one connection inside one
 * transaction: the first failure rolls everything back (no document, no event) and is the
 * answer. Otherwise each runs on its own and gets its own result.
 */
@Injectable()
export class BatchService {
  private readonly logger = new Logger('BatchService');

  constructor(
    private readonly documents: DocumentsService,
    private readonly repo: DocumentsRepository,
  ) {}

  async run(caller: Caller, body: BatchBody): Promise<{ results: BatchResult[] }> {
    if (body.transaction) {
      return withTransaction(this.repo.pool, async (tx) => {
        const results: BatchResult[] = [];
        for (const [i, op] of body.operations.entries()) {
          try {
            results.push(await this.execute(caller, op, tx));
          } catch (err) {
            const expected = expectedError(err);
            if (!expected) throw err;
            const details = (expected.details ?? [{ message: expected.message }]).map((d) => ({
              path: `operations.${i}${d.path ? `.${d.path}` : ''}`,
              message: d.message,
            }));
            throw new AppException(expected.status, expected.code, `Operation ${i} failed, nothing was applied: ${expected.message}`, details);
          }
        }
        return { results };
      });
    }
    // Each operation commits on its own, so whatever happens to one, every outcome is
    // reported: an unexpected error becomes that operation's 500 (logged), never the answer.
    const results: BatchResult[] = [];
    for (const [i, op] of body.operations.entries()) {
      try {
        results.push(await this.execute(caller, op));
      } catch (err) {
        const expected = expectedError(err);
        if (!expected) {
          this.logger.error(`batch operation ${i} failed: ${err instanceof Error ? err.message : String(err)}`);
          results.push({ status: 500, error: { code: 'INTERNAL_ERROR', message: 'An unexpected error occurred' } });
          continue;
        }
        const { status, ...error } = expected;
        if (!error.details) delete error.details;
        results.push({ status, error });
      }
    }
    return { results };
  }

  private async execute(caller: Caller, op: BatchOperation, tx?: Tx): Promise<BatchResult> {
    const ifMatch = 'ifMatch' in op ? op.ifMatch : undefined;
    switch (op.op) {
      case 'create':
        return { status: 201, document: await this.documents.create(caller, op.collection, op.data, tx) };
      case 'get':
        return { status: 200, document: await this.documents.get(caller, op.collection, op.id, {}, tx) };
      case 'replace': {
        const { doc, created } = await this.documents.upsert(caller, op.collection, op.id, op.data, ifMatch, tx);
        return { status: created ? 201 : 200, document: doc };
      }
      case 'update':
        return { status: 200, document: await this.documents.update(caller, op.collection, op.id, op.data, 'patch', ifMatch, tx) };
      case 'delete':
        await this.documents.remove(caller, op.collection, op.id, ifMatch, tx);
        return { status: 204 };
    }
  }
}
