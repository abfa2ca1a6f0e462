import type { TemplateSource } from './render.js';

/** Templates every installation has; admins may override them (PUT /v1/email/templates/:name). */
export const BUILT_IN_TEMPLATE_NAMES = ['verification', 'password-reset', 'magic-link', 'email-change'] as const;
export type BuiltInTemplateName = (typeof BUILT_IN_TEMPLATE_NAMES)[number];

export function isBuiltInTemplate(name: string): name is BuiltInTemplateName {
  return (BUILT_IN_TEMPLATE_NAMES as readonly string[]).includes(name);
}

/** A minimal, widely supported HTML layout: one column, inline styles, a button and the raw link. */
function layout(heading: string, intro: string, button: string, outro: string): string {
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{appName}}</title></head>',
    '<body style="margin:0;padding:24px;background:#f4f4f5;font-family:Arial,Helvetica,sans-serif;color:#18181b">',
    '<div style="max-width:480px;margin:0 auto;background:#ffffff;border-radius:8px;padding:32px">',
    `<h1 style="font-size:20px;margin:0 0 16px">${heading}</h1>`,
    `<p style="font-size:15px;line-height:1.5">${intro}</p>`,
    `<p style="margin:24px 0"><a href="{{link}}" style="display:inline-block;background:#2563eb;color:#ffffff;text-decoration:none;padding:12px 20px;border-radius:6px;font-size:15px">${button}</a></p>`,
    '<p style="font-size:13px;line-height:1.5;color:#52525b">If the button does not work, open this link:<br><a href="{{link}}" style="color:#2563eb;word-break:break-all">{{link}}</a></p>',
    `<p style="font-size:13px;line-height:1.5;color:#52525b">${outro}</p>`,
    '</div></body></html>',
  ].join('\n');
}

export const BUILT_IN_TEMPLATES: Readonly<Record<BuiltInTemplateName, TemplateSource>> = {
  verification: {
    subject: 'Confirm your email address for {{appName}}',
    html: layout(
      'Confirm your email address',
      'Confirm that <strong>{{email}}</strong> is your email address for {{appName}}.',
      'Confirm email address',
      'If you did not sign up for {{appName}}, you can ignore this email.',
    ),
    text: [
      'Confirm that {{email}} is your email address for {{appName}} by opening this link:',
      '',
      '{{link}}',
      '',
      'If you did not sign up for {{appName}}, you can ignore this email.',
      '',
    ].join('\n'),
  },
  'password-reset': {
    subject: 'Reset your {{appName}} password',
    html: layout(
      'Reset your password',
      'Someone asked to reset the password of the {{appName}} account for <strong>{{email}}</strong>. The link works once and expires soon.',
      'Choose a new password',
      'If you did not ask for this, ignore this email: your password stays as it is.',
    ),
    text: [
      'Someone asked to reset the password of the {{appName}} account for {{email}}.',
      'Choose a new password here (the link works once and expires soon):',
      '',
      '{{link}}',
      '',
      'If you did not ask for this, ignore this email: your password stays as it is.',
      '',
    ].join('\n'),
  },
  'magic-link': {
    subject: 'Your sign-in link for {{appName}}',
    html: layout(
      'Sign in to {{appName}}',
      'Use this link to sign in as <strong>{{email}}</strong>. It works once and expires soon.',
      'Sign in',
      'If you did not ask to sign in, ignore this email.',
    ),
    text: [
      'Sign in to {{appName}} as {{email}} with this link (it works once and expires soon):',
      '',
      '{{link}}',
      '',
      'If you did not ask to sign in, ignore this email.',
      '',
    ].join('\n'),
  },
  'email-change': {
    subject: 'Confirm your new email address for {{appName}}',
    html: layout(
      'Confirm your new email address',
      'Confirm that <strong>{{email}}</strong> should become the email address of your {{appName}} account. The link works once and expires soon.',
      'Confirm the new address',
      'If you did not ask for this, ignore this email: nothing changes.',
    ),
    text: [
      'Confirm that {{email}} should become the email address of your {{appName}} account (the link works once and expires soon):',
      '',
      '{{link}}',
      '',
      'If you did not ask for this, ignore this email: nothing changes.',
      '',
    ].join('\n'),
  },
};

/**
 * The application name used in built-in templates (`{{appName}}`): the display name of
 * MAIL_FROM (`Acme <no-reply@acme.com>` -> `Acme`), else the host of PUBLIC_URL.
 */
export function appNameFrom(mailFrom: string, publicUrl: string): string {
  const display = /^\s*"?([^"<]*?)"?\s*</.exec(mailFrom)?.[1]?.trim();
  if (display) return display;
  try {
    return new URL(publicUrl).hostname;
  } catch {
    return 'BaaS';
  }
}

/**
 * Data for a preview: realistic values for the built-in variables, and `[name]` for any
 * other placeholder, so an admin sees where each variable lands.
 */
export function sampleData(placeholders: readonly string[], base: { appName: string; publicUrl: string }): Record<string, string> {
  const data: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const name of placeholders) data[name] = `[${name}]`;
  data.appName = base.appName;
  data.email = 'user@example.com';
  data.link = `${base.publicUrl}/v1/auth/verify?token=sample-token-0123456789`;
  return data;
}
