import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * The network guard of functions' `fetch`: refuses loopback, private, link-local,
 * carrier-grade NAT, multicast and reserved targets, for IP literals and for every address a
 * name resolves to (checked at connect time, so DNS rebinding cannot slip through), on the
 * first request and after every redirect.
 */
const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b::', 96], // NAT64
  ['64:ff9b:1::', 48],
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments (Teredo, ...)
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/**
 * True for an address a function must not reach. Anything that is not an IP address is
 * refused. IPv6 forms that embed an IPv4 address are judged by the IPv4 address they carry
 * (IPv4-mapped ::ffff:0:0/96, IPv4-translated ::ffff:0:0:0/96) or refused as a whole
 * (IPv4-compatible ::/96, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, 6to4 2002::/16, Teredo
 * 2001::/32 and the rest of 2001::/23), whatever their spelling (dotted or hex, zeros
 * compressed or not).
 */
export function isBlockedAddress(address: string): boolean {
  const plain = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(plain);
  if (family === 4) return blocked.check(plain, 'ipv4');
  if (family === 6) {
    const words = ipv6Words(plain);
    if (!words) return true;
    const embedded = embeddedIpv4(words);
    if (embedded) return isBlockedAddress(embedded);
    if (words.slice(0, 6).every((w) => w === 0)) return true; // ::/96: unspecified, loopback, IPv4-compatible
    return blocked.check(plain, 'ipv6');
  }
  return true;
}

/** The eight 16-bit words of an IPv6 address (already validated by isIP), or null. */
export function ipv6Words(address: string): number[] | null {
  let text = address.toLowerCase();
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if ((halves.length === 1 && missing !== 0) || missing < 0) return null;
  const words = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail].map((w) => parseInt(w, 16));
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : null;
}

/** The IPv4 address an IPv4-mapped (::ffff:a.b.c.d) or IPv4-translated (::ffff:0:a.b.c.d) address carries. */
function embeddedIpv4(words: number[]): string | undefined {
  const zeros = (n: number) => words.slice(0, n).every((w) => w === 0);
  const mapped = zeros(5) && words[5] === 0xffff;
  const translated = zeros(4) && words[4] === 0xffff && words[5] === 0;
  if (!mapped && !translated) return undefined;
  const hi = words[6]!;
  const lo = words[7]!;
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

export class FetchRefused extends Error {
  override name = 'FetchRefused';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface GuardedRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  redirect?: 'follow' | 'manual' | 'error';
}

export interface GuardedResponse {
  status: number;
  statusText: string;
  url: string;
  redirected: boolean;
  headers: [string, string][];
  body: Uint8Array;
}

export interface GuardOptions {
  timeoutMs: number;
  maxRedirects?: number;
  maxBodyBytes?: number;
  /** Tests replace the address policy; production uses isBlockedAddress. */
  isBlocked?: (address: string) => boolean;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'te', 'trailer']);

/**
 * The request headers kept when a redirect leaves the origin: describing the request, never
 * identifying the caller. Everything else (authorization, cookie, api keys, any custom
 * header) is dropped, as browsers and undici drop credentials, and stricter: a custom header
 * may carry a secret under any name.
 */
const CROSS_ORIGIN_SAFE = new Set(['accept', 'accept-encoding', 'accept-language', 'cache-control', 'content-language', 'content-type', 'pragma', 'user-agent']);

/** fetch() for untrusted code: http(s) only, guarded addresses, bounded time and body size. */
export async function guardedFetch(input: string, init: GuardedRequest, options: GuardOptions): Promise<GuardedResponse> {
  const isBlocked = options.isBlocked ?? isBlockedAddress;
  const maxRedirects = options.maxRedirects ?? 5;
  const maxBody = options.maxBodyBytes ?? 5 * 1024 * 1024;
  const deadline = Date.now() + options.timeoutMs;
  let url = parseUrl(input);
  let method = (init.method ?? 'GET').toUpperCase();
  let body = init.body;
  const headers: Record<string, string> = { 'user-agent': 'baas-functions' };
  for (const [k, v] of Object.entries(init.headers ?? {})) {
    if (!HOP_BY_HOP.has(k.toLowerCase())) headers[k.toLowerCase()] = String(v);
  }
  for (let hop = 0; ; hop++) {
    const response = await requestOnce(url, method, headers, body, isBlocked, deadline, maxBody);
    const location = response.headers.find(([k]) => k === 'location')?.[1];
    if (response.status >= 300 && response.status < 400 && location && init.redirect !== 'manual') {
      if (init.redirect === 'error') throw new FetchRefused('REDIRECT', `Redirected to ${location} (redirect: 'error')`);
      if (hop >= maxRedirects) throw new FetchRefused('TOO_MANY_REDIRECTS', `More than ${maxRedirects} redirects`);
      url = redirectTarget(url, location, headers);
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
        delete headers['content-type'];
        delete headers['content-length'];
      }
      continue;
    }
    return { ...response, redirected: hop > 0 };
  }
}

/**
 * Where a redirect leads, and what of the request goes along: https → http is refused, and
 * leaving the origin drops every header but CROSS_ORIGIN_SAFE (from `headers`, in place).
 */
export function redirectTarget(from: URL, location: string, headers: Record<string, string>): URL {
  let next: URL;
  try {
    next = parseUrl(new URL(location, from).toString());
  } catch (err) {
    if (err instanceof FetchRefused) throw err;
    throw new FetchRefused('INVALID_URL', `Not a URL: ${location.slice(0, 200)}`);
  }
  if (from.protocol === 'https:' && next.protocol !== 'https:') {
    throw new FetchRefused('REDIRECT_DOWNGRADE', `Refused to follow a redirect from https to ${next.protocol.slice(0, -1)} (${next.origin})`);
  }
  if (next.origin !== from.origin) {
    for (const name of Object.keys(headers)) if (!CROSS_ORIGIN_SAFE.has(name)) delete headers[name];
  }
  return next;
}

/**
 * The address check alone, for a request that is about to send a body: the URL's protocol
 * and every address its host resolves to. The request itself checks again at connect time.
 */
export async function checkTarget(input: string, options: Pick<GuardOptions, 'timeoutMs' | 'isBlocked'>): Promise<void> {
  const isBlocked = options.isBlocked ?? isBlockedAddress;
  const url = parseUrl(input);
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(hostname)) {
    if (isBlocked(hostname)) throw refusedAddress(hostname, hostname);
    return;
  }
  const addresses = await new Promise<LookupAddress[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new FetchRefused('TIMEOUT', 'fetch ran out of time')), options.timeoutMs);
    dnsLookup(hostname, { all: true }, (err, found) => {
      clearTimeout(timer);
      if (err) reject(new FetchRefused('FETCH_FAILED', err.message));
      else resolve(found);
    });
  });
  const bad = addresses.find((a) => isBlocked(a.address));
  if (bad || addresses.length === 0) throw refusedAddress(hostname, bad?.address ?? 'nothing');
}

function parseUrl(input: string): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new FetchRefused('INVALID_URL', `Not a URL: ${input.slice(0, 200)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FetchRefused('PROTOCOL_REFUSED', `Only http and https URLs can be fetched (got ${url.protocol})`);
  }
  return url;
}

function refusedAddress(host: string, address: string): FetchRefused {
  return new FetchRefused(
    'ADDRESS_REFUSED',
    `Refused to fetch ${host}: ${address} is a loopback, private, link-local or reserved address`,
  );
}

function requestOnce(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | Uint8Array | undefined,
  isBlocked: (address: string) => boolean,
  deadline: number,
  maxBody: number,
): Promise<Omit<GuardedResponse, 'redirected'>> {
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(hostname) && isBlocked(hostname)) return Promise.reject(refusedAddress(hostname, hostname));
  // Every address the name resolves to must be allowed (not just the first).
  const lookup: LookupFunction = (host, opts, callback) => {
    dnsLookup(host, { all: true, family: opts.family ?? 0 }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 4);
      const bad = addresses.find((a) => isBlocked(a.address));
      if (bad || addresses.length === 0) return callback(refusedAddress(host, bad?.address ?? 'nothing'), '', 4);
      if (opts.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses); // Node asks for all with autoSelectFamily
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
  const remaining = deadline - Date.now();
  if (remaining <= 0) return Promise.reject(new FetchRefused('TIMEOUT', 'fetch ran out of time'));
  // One deadline for the whole exchange (connect, headers and body), not an idle timeout:
  // a server that drips its answer is cut off at the deadline like one that never answers.
  const signal = AbortSignal.timeout(remaining);
  const failed = (err: Error) => (err instanceof FetchRefused ? err : signal.aborted ? new FetchRefused('TIMEOUT', 'fetch ran out of time') : new FetchRefused('FETCH_FAILED', err.message));
  return new Promise((resolve, reject) => {
    const requestFn = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const payload = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body) : Buffer.from(body);
    const req = requestFn(
      url,
      {
        method,
        headers: { ...headers, ...(payload ? { 'content-length': String(payload.length) } : {}) },
        lookup,
        signal,
        agent: false,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let tooLarge = false;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBody) {
            tooLarge = true;
            reject(new FetchRefused('BODY_TOO_LARGE', `The response body is larger than ${maxBody} bytes`));
            req.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () =>
          !tooLarge && resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            url: url.toString(),
            headers: headerList(res.headers),
            body: new Uint8Array(Buffer.concat(chunks)),
          }),
        );
        res.on('error', (err) => reject(failed(err)));
      },
    );
    req.on('error', (err) => reject(failed(err)));
    req.end(payload);
  });
}

function headerList(headers: IncomingHttpHeaders): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) continue;
    out.push([k, Array.isArray(v) ? v.join(', ') : v]);
  }
  return out;
}
