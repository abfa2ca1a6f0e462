export { createClient, type BaasClient, type ClientOptions } from './client.js';
export { AuthClient, localStorageStore, memoryStore, type AuthEvent, type AuthListener, type AuthOptions, type AuthSession, type TokenStore } from './auth.js';
export {
  CollectionRef,
  type BatchOperation,
  type Condition,
  type Filter,
  type ListOptions,
  type ReadOptions,
  type SortKey,
  type WriteOptions,
} from './collections.js';
export { BucketRef, StorageClient, type FileStream, type ListFilesOptions, type UploadBody, type UploadOptions, type UploadProgress } from './storage.js';
export {
  RealtimeClient,
  type FileEvent,
  type RealtimeEvent,
  type RealtimeEventKind,
  type RealtimeOptions,
  type RealtimeState,
  type RealtimeSubscription,
  type SubscribeSpec,
  type SubscriptionHandlers,
  type WebSocketFactory,
  type WebSocketLike,
} from './realtime.js';
export { FINAL_RUN_STATUSES, FunctionsClient, type RunFilter, type RunStatus } from './functions.js';
export {
  AdminClient,
  type AuthProviderInput,
  type CreateBucketInput,
  type CreateCollectionInput,
  type DeployFunctionInput,
  type PatchFunctionInput,
  type EmailTemplateInput,
  type SendEmailInput,
  type UpdateCollectionInput,
  type UpdateUserInput,
  type CreateUserInput,
} from './admin.js';
export { AdminTransfer, type ImportFileInput } from './transfer.js';
export { BaasError, MfaRequiredError, NetworkError, isBaasError, type ErrorCode, type ErrorDetail } from './errors.js';
export type { FetchLike, HttpMethod, RetryOptions } from './http.js';
export type * from './types.js';
export type { components, operations, paths } from './generated/api.js';
