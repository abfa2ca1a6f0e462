/**
 * Query parameters whose values are secrets: email-link and OAuth tokens, codes and states,
 * keys and signatures, the one-time ticket of a provider link. Matched case-insensitively on
 * the parameter name.
 */
const SECRET_PARAM = /^(code|state|nonce|key|sig|otp|link|ticket|[a-z0-9_.-]*(token|secret|password|signature|credential|api[_-]?key)[a-z0-9_.-]*)$/i;

/** A URL (or path with a query) with the values of secret query parameters replaced by `[redacted]`. */
export function redactUrl(url: string): string {
  return url.replace(/([?&])([^=&#\s]+)=([^&#\s]*)/g, (whole, sep: string, name: string) =>
    SECRET_PARAM.test(safeDecode(name)) ? `${sep}${name}=[redacted]` : whole,
  );
}

/** Every URL-looking query inside free text (log messages, error messages) redacted the same way. */
export function redactText(text: string): string {
  return text.includes('=') ? redactUrl(text) : text;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
