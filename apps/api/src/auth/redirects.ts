import { AppException } from '../common/app-exception.js';

/**
 * Whether `url` is on the allow-list (AUTH_REDIRECT_URLS): equal to an entry, or starting
 * with an entry that ends in `*` (without the `*`). Custom schemes (`myapp://callback`) work
 * the same way, for native apps. Compared as given: no normalisation that could widen a match.
 */
export function redirectAllowed(allowList: readonly string[], url: string): boolean {
  if (url.length > 2048 || !URL.canParse(url)) return false;
  // A fragment would be overwritten by the tokens; user info is a phishing aid.
  const parsed = new URL(url);
  if (parsed.hash || parsed.username || parsed.password) return false;
  if (parsed.protocol === 'javascript:' || parsed.protocol === 'data:') return false;
  return allowList.some((entry) => (entry.endsWith('*') ? url.startsWith(entry.slice(0, -1)) : url === entry));
}

/** Throws 400 REDIRECT_NOT_ALLOWED unless `url` is on the allow-list. */
export function assertRedirectAllowed(allowList: readonly string[], url: string): void {
  if (!redirectAllowed(allowList, url)) {
    throw new AppException(400, 'REDIRECT_NOT_ALLOWED', 'This redirect URL is not on the allow-list (AUTH_REDIRECT_URLS)');
  }
}
