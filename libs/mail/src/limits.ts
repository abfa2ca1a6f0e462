import { z } from 'zod';

/** Bounds of what may be sent or stored as a template. */
export const MAIL_LIMITS = {
  /** Recipients of one message. */
  recipients: 50,
  /** RFC 5321 path limit. */
  addressLength: 254,
  subjectLength: 255,
  /** Characters of the text part and of the html part, each. */
  bodyLength: 256 * 1024,
  dataKeys: 50,
  dataValueLength: 8 * 1024,
} as const;

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f\u0085\u2028\u2029]/;
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * One recipient: a bare address (no display name), lower-cased. The format check refuses
 * spaces, line breaks and `<>,;`, so an address can neither carry a second recipient nor a
 * header.
 */
export const emailAddressSchema = z
  .email({ message: 'must be an email address such as name@example.com' })
  .max(MAIL_LIMITS.addressLength)
  .transform((v) => v.toLowerCase());

/** One address or a list of 1-50; validated one by one (errors name `to.<index>`). */
export const recipientsSchema = z
  .union([emailAddressSchema, z.array(emailAddressSchema).min(1).max(MAIL_LIMITS.recipients)])
  .transform((v) => [...new Set(Array.isArray(v) ? v : [v])]);

/** A subject (or subject template): one line, no control characters. */
export const subjectSchema = z
  .string()
  .trim()
  .min(1)
  .max(MAIL_LIMITS.subjectLength)
  .refine((v) => !CONTROL.test(v), { message: 'must not contain line breaks or control characters' });

export const bodySchema = z.string().max(MAIL_LIMITS.bodyLength);

/** Template names: lower-case letters, digits, `-` and `_`, as in `password-reset`. */
export const templateNameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be 1-64 lower-case letters, digits, - or _, starting with a letter or digit');

/** Template variables: `{ name: value }`; numbers and booleans are turned into text. */
export const templateDataSchema = z
  .record(
    z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, 'variable names are letters, digits and _, starting with a letter or _')
      .refine((k) => !RESERVED_KEYS.has(k), { message: 'is a reserved name' }),
    z.union([z.string().max(MAIL_LIMITS.dataValueLength), z.number(), z.boolean()]),
  )
  .refine((v) => Object.keys(v).length <= MAIL_LIMITS.dataKeys, {
    message: `at most ${MAIL_LIMITS.dataKeys} variables`,
  })
  .transform((v) => {
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [key, value] of Object.entries(v)) out[key] = String(value);
    return out;
  });

/** A template as admins store it. At least one of html and text must have content. */
export const templateSourceSchema = z
  .strictObject({
    subject: subjectSchema,
    html: bodySchema,
    text: bodySchema,
  })
  .refine((t) => t.html.trim() !== '' || t.text.trim() !== '', {
    message: 'html or text must have content',
    path: ['text'],
  });

/**
 * What may be sent: `{ to, subject, text?, html? }` or `{ to, template, data? }`. One
 * object schema (rather than a union), so an error names the field that is wrong.
 */
export const emailRequestSchema = z
  .strictObject({
    to: recipientsSchema,
    subject: subjectSchema.optional(),
    text: bodySchema.optional(),
    html: bodySchema.optional(),
    template: templateNameSchema.optional(),
    data: templateDataSchema.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.template !== undefined) {
      for (const key of ['subject', 'text', 'html'] as const) {
        if (v[key] !== undefined) {
          ctx.addIssue({ code: 'custom', path: [key], message: 'cannot be combined with template' });
        }
      }
      return;
    }
    if (v.data !== undefined) ctx.addIssue({ code: 'custom', path: ['data'], message: 'is only used with template' });
    if (v.subject === undefined) ctx.addIssue({ code: 'custom', path: ['subject'], message: 'is required without template' });
    if (!v.text?.trim() && !v.html?.trim()) {
      ctx.addIssue({ code: 'custom', path: ['text'], message: 'text or html is required without template' });
    }
  });

export type EmailRequestInput = z.input<typeof emailRequestSchema>;
export type EmailRequest = z.output<typeof emailRequestSchema>;
