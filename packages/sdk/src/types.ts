import type { components } from './generated/api.js';

type Schemas = components['schemas'];

/** The api's shapes, by their names in the OpenAPI document. */
export type User = Schemas['User'];
export type AdminUser = Schemas['AdminUser'];
export type AdminOverview = Schemas['AdminOverview'];
export type SessionsRevoked = Schemas['SessionsRevoked'];
export type AuthTokens = Schemas['AuthTokens'];
export type MfaChallenge = Schemas['MfaChallenge'];
export type MfaStatus = Schemas['MfaStatus'];
export type TotpEnrolment = Schemas['TotpEnrolment'];
export type Identity = Schemas['Identity'];
export type AuthProvider = Schemas['AuthProvider'];
export type SignInProvider = Schemas['SignInProviderList']['items'][number];
export type Session = Schemas['Session'];
export type ApiKey = Schemas['ApiKey'];
export type ApiKeyCreated = Schemas['ApiKeyCreated'];
export type Collection = Schemas['Collection'];
export type BatchResult = Schemas['BatchResult'];
export type FileInfo = Schemas['File'];
export type Bucket = Schemas['Bucket'];
export type UploadUrl = Schemas['UploadUrl'];
export type DownloadUrl = Schemas['DownloadUrl'];
export type FunctionInfo = Schemas['Function'];
export type FunctionVersion = Schemas['FunctionVersion'];
export type FunctionUsage = Schemas['FunctionUsage'];
export type Run = Schemas['Run'];
/** A run as the signed-in user who invoked it reads it (logs only when the function allows). */
export type CallerRun = Schemas['CallerRun'];
export type HttpAccess = Schemas['HttpAccess'];
export type RunError = Schemas['RunError'];
export type Invocation = Schemas['Invocation'];
export type Replay = Schemas['Replay'];
export type EmailMessage = Schemas['EmailMessage'];
export type EmailMessageSummary = Schemas['EmailMessageSummary'];
export type EmailQueued = Schemas['EmailQueued'];
export type EmailTemplate = Schemas['EmailTemplate'];
export type EmailPreview = Schemas['EmailPreview'];
export type ApiError = Schemas['Error'];
export type TransferUser = Schemas['TransferUser'];
export type TransferDocument = Schemas['TransferDocument'];
export type ImportResult = Schemas['ImportResult'];
export type ImportUsersResult = Schemas['ImportUsersResult'];

/** One page of a list: `nextCursor` is null on the last page. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  count?: number;
}

/** The system fields every document has (beside the collection's own fields). */
export interface SystemFields {
  id: string;
  ownerId: string | null;
  acl: { read?: string[]; write?: string[] } | null;
  /** Increments on every write; send it as `ifMatch` to update only an unchanged document. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** A document of a collection whose fields are `T`. */
export type Doc<T> = T & SystemFields;
