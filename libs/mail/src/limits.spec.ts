import { describe, expect, it } from 'vitest';
import { EmailInputError, MAIL_LIMITS, parseEmailRequest, templateSourceSchema } from '#libs/mail';

/** The error parseEmailRequest throws for `input` (fails the test if it accepts it). */
function rejection(input: unknown): EmailInputError {
  try {
    parseEmailRequest(input);
  } catch (err) {
    expect(err).toBeInstanceOf(EmailInputError);
    return err as EmailInputError; // narrowed by the assertion above
  }
  throw new Error(`accepted ${JSON.stringify(input)}`);
}

const paths = (err: EmailInputError) => err.details.map((d) => d.path);

describe('parseEmailRequest', () => {
  it('accepts one address or a list, lower-cases and de-duplicates them', () => {
    expect(parseEmailRequest({ to: 'Ann@Example.COM', subject: 'Hi', text: 'x' }).to).toEqual(['ann@example.com']);
    expect(parseEmailRequest({ to: ['a@example.com', 'A@example.com', 'b@example.com'], subject: 'Hi', html: '<p>x</p>' }).to).toEqual([
      'a@example.com',
      'b@example.com',
    ]);
  });

  it('names each bad recipient by its index', () => {
    const err = rejection({ to: ['ok@example.com', 'not-an-address', 'x@example.com\r\nBcc: y@example.com'], subject: 'Hi', text: 'x' });
    expect(err.code).toBe('VALIDATION_FAILED');
    expect(paths(err)).toEqual(['to.1', 'to.2']);
  });

  it('refuses line breaks in the subject and in addresses (header injection)', () => {
    expect(paths(rejection({ to: 'a@example.com', subject: 'Hi\r\nBcc: evil@example.com', text: 'x' }))).toEqual(['subject']);
    expect(paths(rejection({ to: 'a@example.com', subject: 'Hi\nX-Evil: 1', text: 'x' }))).toEqual(['subject']);
    expect(paths(rejection({ to: 'a@example.com\nBcc: evil@example.com', subject: 'Hi', text: 'x' }))).toEqual(['to']);
    expect(paths(rejection({ to: 'Evil <a@example.com>, b@example.com', subject: 'Hi', text: 'x' }))).toEqual(['to']);
  });

  it('limits recipients, subject and body sizes', () => {
    const many = Array.from({ length: MAIL_LIMITS.recipients + 1 }, (_, i) => `u${i}@example.com`);
    expect(paths(rejection({ to: many, subject: 'Hi', text: 'x' }))).toEqual(['to']);
    expect(paths(rejection({ to: 'a@example.com', subject: 's'.repeat(256), text: 'x' }))).toEqual(['subject']);
    expect(paths(rejection({ to: 'a@example.com', subject: 'Hi', html: 'x'.repeat(MAIL_LIMITS.bodyLength + 1) }))).toEqual(['html']);
    expect(parseEmailRequest({ to: many.slice(0, 50), subject: 'Hi', text: 'x'.repeat(MAIL_LIMITS.bodyLength) }).to).toHaveLength(50);
  });

  it('needs a subject and a body without a template, and neither with one', () => {
    expect(paths(rejection({ to: 'a@example.com' })).sort()).toEqual(['subject', 'text']);
    expect(paths(rejection({ to: 'a@example.com', template: 'verification', subject: 'x' }))).toEqual(['subject']);
    expect(paths(rejection({ to: 'a@example.com', subject: 'x', text: 'y', data: { a: 'b' } }))).toEqual(['data']);
  });

  it('turns template data into strings and refuses reserved or malformed variable names', () => {
    const ok = parseEmailRequest({ to: 'a@example.com', template: 'welcome', data: { n: 3, ok: true, s: 'x' } });
    expect({ ...ok.data }).toEqual({ n: '3', ok: 'true', s: 'x' });
    expect(paths(rejection({ to: 'a@example.com', template: 'welcome', data: { constructor: 'x' } }))).toEqual(['data.constructor']);
    expect(rejection({ to: 'a@example.com', template: 'welcome', data: { 'a-b': 'x' } }).code).toBe('VALIDATION_FAILED');
    expect(rejection({ to: 'a@example.com', template: 'welcome', data: { a: { nested: 1 } } }).code).toBe('VALIDATION_FAILED');
    expect(paths(rejection({ to: 'a@example.com', template: 'Bad Name' }))).toEqual(['template']);
  });

  it('refuses unknown fields', () => {
    expect(rejection({ to: 'a@example.com', subject: 'x', text: 'y', bcc: 'z@example.com' }).code).toBe('VALIDATION_FAILED');
  });
});

describe('templateSourceSchema', () => {
  it('needs a one-line subject and content in html or text', () => {
    expect(templateSourceSchema.safeParse({ subject: 'Hi {{name}}', html: '', text: 'x' }).success).toBe(true);
    expect(templateSourceSchema.safeParse({ subject: 'Hi', html: ' ', text: '' }).success).toBe(false);
    expect(templateSourceSchema.safeParse({ subject: 'Hi\r\n{{x}}', html: 'x', text: 'x' }).success).toBe(false);
  });
});
