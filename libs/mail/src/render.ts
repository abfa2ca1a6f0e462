/** A template: `{{variable}}` placeholders in each part. */
export interface TemplateSource {
  subject: string;
  html: string;
  text: string;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
  /** Placeholders that had no value in the data (rendered as empty text), in order of appearance. */
  missing: string[];
}

export type TemplateData = Readonly<Record<string, string>>;

/** `{{ name }}`: a letter or `_`, then letters, digits, `_`; spaces inside the braces are allowed. */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]{0,63})\s*\}\}/g;

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** Line breaks and other control characters, with the spaces around them, become one space. */
export function toHeaderText(value: string): string {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  return value.replace(/\s*[\u0000-\u001f\u007f\u0085\u2028\u2029]+\s*/g, ' ');
}

/** The variable names a template uses, each once, in order of appearance (subject, html, text). */
export function placeholdersOf(source: TemplateSource): string[] {
  const names = new Set<string>();
  for (const part of [source.subject, source.html, source.text]) {
    for (const match of part.matchAll(PLACEHOLDER)) names.add(match[1]!);
  }
  return [...names];
}

/**
 * Fills the placeholders of a template in one pass (a value that itself contains `{{x}}`
 * is not expanded again). Values are HTML-escaped in the html part, inserted as they are
 * in the text part, and made single-line in the subject, so data can neither inject markup
 * nor a header. Only the data's own keys count: `{{constructor}}` is not Object's.
 */
export function renderTemplate(source: TemplateSource, data: TemplateData): RenderedEmail {
  const missing = new Set<string>();
  const fill = (template: string, encode: (value: string) => string): string =>
    template.replace(PLACEHOLDER, (_match, name: string) => {
      if (!Object.hasOwn(data, name)) {
        missing.add(name);
        return '';
      }
      return encode(String(data[name]));
    });
  const subject = toHeaderText(fill(source.subject, (v) => v)).trim();
  const html = fill(source.html, escapeHtml);
  const text = fill(source.text, (v) => v);
  return { subject, html, text, missing: [...missing] };
}
