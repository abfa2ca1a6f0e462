/** An auto-submitting HTML form (oidc-provider's form_post page): its action and hidden fields. */
export function parseAutoSubmitForm(html: string, base: string): { action: string; fields: Record<string, string> } | null {
  const action = /<form[^>]*action="([^"]+)"/i.exec(html)?.[1];
  if (!action) return null;
  const unescape = (v: string) => v.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#x2F;/g, '/');
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/gi)) fields[unescape(m[1]!)] = unescape(m[2]!);
  return { action: new URL(unescape(action), base).toString(), fields };
}

/** A browser, as far as redirects and cookies go: follows redirects by hand, keeps cookies per origin. */
export class Browser {
  private readonly jar = new Map<string, Map<string, string>>();

  /** Form POSTs made by `follow` (a provider's form_post answers), for assertions. */
  readonly formPosts: { action: string; fields: Record<string, string> }[] = [];
  /** Extra fields a form_post answer gets (as Apple adds `user`). */
  extraFormFields: Record<string, string> = {};
  /** When set, `follow` stops at a form_post page (recorded in formPosts) instead of submitting it. */
  holdForms = false;

  async get(url: string): Promise<Response> {
    return this.send(url);
  }

  /**
   * A cross-site form POST: as with SameSite=Lax cookies in a real browser, the target's
   * cookies are NOT sent (the flow cookie must not be needed here).
   */
  async postForm(action: string, fields: Record<string, string>): Promise<Response> {
    this.formPosts.push({ action, fields });
    return this.send(action, { method: 'POST', body: new URLSearchParams(fields).toString(), contentType: 'application/x-www-form-urlencoded', cookies: false });
  }

  private async send(url: string, options: { method?: string; body?: string; contentType?: string; cookies?: boolean } = {}): Promise<Response> {
    const target = new URL(url);
    const cookies = options.cookies === false ? '' : [...(this.jar.get(target.origin) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
    const headers: Record<string, string> = { ...(cookies ? { cookie: cookies } : {}), ...(options.contentType ? { 'content-type': options.contentType } : {}) };
    const res = await fetch(target, { method: options.method ?? 'GET', redirect: 'manual', headers, body: options.body });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const [name, ...value] = pair!.split('=');
      const jar = this.jar.get(target.origin) ?? new Map<string, string>();
      if (value.join('=') === '' || /max-age=0/i.test(line)) jar.delete(name!.trim());
      else jar.set(name!.trim(), value.join('='));
      this.jar.set(target.origin, jar);
    }
    return res;
  }

  /** Follows redirects until one leaves for `stopAt` (the app, which is not a server here); returns that URL. */
  async follow(url: string, stopAt: string): Promise<{ url: string; hops: string[] }> {
    const hops: string[] = [];
    let next = url;
    for (let i = 0; i < 20; i++) {
      if (next.startsWith(stopAt)) return { url: next, hops };
      hops.push(next);
      let res = await this.get(next);
      // A form_post answer: an HTML page whose form submits itself to the callback.
      if (res.status === 200 && (res.headers.get('content-type') ?? '').includes('text/html')) {
        const form = parseAutoSubmitForm(await res.text(), next);
        if (form && this.holdForms) {
          this.formPosts.push(form);
          return { url: form.action, hops };
        }
        if (form) {
          hops.push(`POST ${form.action}`);
          res = await this.postForm(form.action, { ...form.fields, ...this.extraFormFields });
        }
      }
      const location = res.headers.get('location');
      if (!location) throw new Error(`no redirect from ${next}: ${res.status} ${await res.text()}`);
      next = new URL(location, next).toString();
    }
    throw new Error('too many redirects');
  }
}
