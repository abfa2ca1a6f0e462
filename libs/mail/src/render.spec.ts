import { describe, expect, it } from 'vitest';
import {
  appNameFrom,
  BUILT_IN_TEMPLATE_NAMES,
  BUILT_IN_TEMPLATES,
  escapeHtml,
  placeholdersOf,
  renderTemplate,
  sampleData,
} from '#libs/mail';

const template = {
  subject: 'Hello {{name}}',
  html: '<p title="{{name}}">Hi {{ name }}, see <a href="{{link}}">{{link}}</a></p>',
  text: 'Hi {{name}}, see {{link}}',
};

describe('escapeHtml', () => {
  it('escapes the five characters that matter in element content and quoted attributes', () => {
    expect(escapeHtml(`<script>alert("x" & 'y')</script>`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;',
    );
    expect(escapeHtml('plain text 123')).toBe('plain text 123');
  });
});

describe('renderTemplate', () => {
  it('HTML-escapes values in the html part only', () => {
    const name = `<img src=x onerror="alert(1)">&'`;
    const out = renderTemplate(template, { name, link: 'https://app.test/v?a=1&b=2' });
    expect(out.html).toBe(
      '<p title="&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;">Hi &lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;, ' +
        'see <a href="https://app.test/v?a=1&amp;b=2">https://app.test/v?a=1&amp;b=2</a></p>',
    );
    expect(out.html).not.toContain('<img');
    expect(out.text).toBe(`Hi ${name}, see https://app.test/v?a=1&b=2`);
    expect(out.subject).toBe(`Hello ${name}`);
  });

  it('a value cannot break out of an attribute with either quote style', () => {
    const out = renderTemplate({ subject: 's', html: `<a href='{{u}}' title="{{u}}">x</a>`, text: '' }, { u: `"' onclick=alert(1) x='` });
    expect(out.html).toBe(`<a href='&quot;&#39; onclick=alert(1) x=&#39;' title="&quot;&#39; onclick=alert(1) x=&#39;">x</a>`);
  });

  it('makes the subject one line, so data cannot inject a header', () => {
    const out = renderTemplate(template, { name: 'Bob\r\nBcc: victim@example.com\n\tX: y', link: '' });
    expect(out.subject).toBe('Hello Bob Bcc: victim@example.com X: y');
    expect(out.subject).not.toMatch(/[\r\n]/);
  });

  it('does not expand placeholders inside values (one pass)', () => {
    const out = renderTemplate(template, { name: '{{link}}', link: 'SECRET' });
    expect(out.text).toBe('Hi {{link}}, see SECRET');
    expect(out.html).toContain('Hi {{link}}');
  });

  it('renders a missing variable empty and reports it once', () => {
    const out = renderTemplate(template, { name: 'Ann' });
    expect(out.text).toBe('Hi Ann, see ');
    expect(out.missing).toEqual(['link']);
  });

  it('only uses the data object\'s own keys, never inherited ones', () => {
    const out = renderTemplate({ subject: '{{constructor}}', html: '{{toString}}{{__proto__}}', text: '{{hasOwnProperty}}' }, {});
    expect(out).toEqual({ subject: '', html: '', text: '', missing: ['constructor', 'toString', '__proto__', 'hasOwnProperty'] });
  });

  it('leaves text that only looks like a placeholder alone', () => {
    const out = renderTemplate({ subject: 's', html: '{{ 1bad }} {{}} {name}', text: '{{{name}}}' }, { name: 'N' });
    expect(out.html).toBe('{{ 1bad }} {{}} {name}');
    expect(out.text).toBe('{N}');
  });
});

describe('built-in templates', () => {
  it.each(BUILT_IN_TEMPLATE_NAMES)('%s puts the link in both parts and escapes it in html', (name) => {
    const link = 'https://app.test/v1/auth/x?token=abc&next=<b>';
    const out = renderTemplate(BUILT_IN_TEMPLATES[name], { link, email: 'a@example.com', appName: 'Acme' });
    expect(out.missing).toEqual([]);
    expect(out.text).toContain(link);
    expect(out.html).toContain('href="https://app.test/v1/auth/x?token=abc&amp;next=&lt;b&gt;"');
    expect(out.html).not.toContain('<b>');
    expect(out.subject).toContain('Acme');
    expect(placeholdersOf(BUILT_IN_TEMPLATES[name])).toContain('link');
  });

  it('derives the app name from MAIL_FROM, else from PUBLIC_URL', () => {
    expect(appNameFrom('Acme Shop <no-reply@acme.test>', 'https://x.test')).toBe('Acme Shop');
    expect(appNameFrom('"Quoted, Inc" <a@b.test>', 'https://x.test')).toBe('Quoted, Inc');
    expect(appNameFrom('no-reply@acme.test', 'https://api.acme.test')).toBe('api.acme.test');
  });

  it('sample data fills every placeholder of a custom template', () => {
    const source = { subject: 'Order {{orderId}}', html: '{{customer}} {{link}}', text: '' };
    const data = sampleData(placeholdersOf(source), { appName: 'Acme', publicUrl: 'https://x.test' });
    expect(renderTemplate(source, data)).toMatchObject({ subject: 'Order [orderId]', missing: [] });
    expect(data.link).toMatch(/^https:\/\/x\.test\//);
  });
});
