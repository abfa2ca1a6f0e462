import { type Caller, isAdmin, principalsOf } from '../auth/caller.js';

/** The parts of a file and its bucket that decide who may read or change it. */
export interface FileAccess {
  ownerId: string | null;
  aclRead: string[];
  aclWrite: string[];
  bucketPublic: boolean;
}

function matches(caller: Caller, acl: readonly string[]): boolean {
  const entries = principalsOf(caller);
  return acl.some((entry) => entries.includes(entry));
}

function isOwner(caller: Caller, file: FileAccess): boolean {
  return caller.kind === 'user' && file.ownerId !== null && file.ownerId === caller.userId;
}

/**
 * Who may read a file (metadata, content, download URL): anyone in a public bucket;
 * in a private one its owner, admins, the service role, and whoever its ACL names (read
 * or write: who may delete a file may also see it).
 */
export function canRead(caller: Caller, file: FileAccess): boolean {
  return file.bucketPublic || isAdmin(caller) || isOwner(caller, file) || matches(caller, file.aclRead) || canWrite(caller, file);
}

/** Who may change a file (delete, complete an upload): its owner, admins, the service role, its write ACL. */
export function canWrite(caller: Caller, file: FileAccess): boolean {
  return isAdmin(caller) || isOwner(caller, file) || (caller.kind !== 'anonymous' && matches(caller, file.aclWrite));
}

/**
 * The list filter for a caller in a bucket: null when every file is readable (public bucket,
 * admin, service), else who they are (own files plus files whose read ACL names them).
 */
export function listFilterFor(caller: Caller, bucketPublic: boolean): { userId?: string; entries: string[]; writeEntries: string[] } | null {
  if (bucketPublic || isAdmin(caller)) return null;
  return {
    ...(caller.kind === 'user' ? { userId: caller.userId } : {}),
    entries: principalsOf(caller),
    writeEntries: caller.kind === 'anonymous' ? [] : principalsOf(caller),
  };
}
