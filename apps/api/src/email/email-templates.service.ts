import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import {
  appNameFrom,
  BUILT_IN_TEMPLATE_NAMES,
  BUILT_IN_TEMPLATES,
  isBuiltInTemplate,
  placeholdersOf,
  renderTemplate,
  sampleData,
  type TemplateSource,
} from '#libs/mail';
import { actorLabel, type Caller } from '../auth/caller.js';
import { notFound } from '../common/app-exception.js';
import type { PreviewTemplateBody } from './email.dto.js';
import { EmailRepository, type StoredTemplate } from './email.repository.js';

const templateNotFound = (name: string) => notFound('EMAIL_TEMPLATE_NOT_FOUND', `There is no email template named "${name}"`);

export interface TemplateView extends TemplateSource {
  name: string;
  builtIn: boolean;
  overridden: boolean;
  updatedAt: Date | null;
}

export interface PreviewView {
  name: string;
  subject: string;
  html: string;
  text: string;
  data: Record<string, string>;
  missing: string[];
}

function view(name: string, stored: StoredTemplate | null): TemplateView | undefined {
  const builtIn = isBuiltInTemplate(name);
  const source = stored ?? (builtIn ? BUILT_IN_TEMPLATES[name] : undefined);
  if (!source) return undefined;
  return {
    name,
    subject: source.subject,
    html: source.html,
    text: source.text,
    builtIn,
    overridden: stored !== null,
    updatedAt: stored?.updatedAt ?? null,
  };
}

/** Email templates: the built-in ones, admins' overrides of them, and admins' own. */
@Injectable()
export class EmailTemplatesService {
  private readonly sample: { appName: string; publicUrl: string };

  constructor(
    private readonly repo: EmailRepository,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.sample = { appName: appNameFrom(config.MAIL_FROM, config.PUBLIC_URL), publicUrl: config.PUBLIC_URL };
  }

  async list(): Promise<{ items: TemplateView[]; nextCursor: null }> {
    const stored = new Map((await this.repo.listTemplates()).map((t) => [t.name, t]));
    const names = [...new Set([...BUILT_IN_TEMPLATE_NAMES, ...stored.keys()])].sort();
    return { items: names.map((name) => view(name, stored.get(name) ?? null)!), nextCursor: null };
  }

  async get(name: string): Promise<TemplateView> {
    const found = view(name, await this.repo.findTemplate(name));
    if (!found) throw templateNotFound(name);
    return found;
  }

  async put(name: string, source: TemplateSource, caller: Caller): Promise<TemplateView> {
    return view(name, await this.repo.upsertTemplate(name, source, actorLabel(caller)))!;
  }

  /** Removes a stored template; for a built-in one the default applies again. */
  async remove(name: string): Promise<void> {
    const deleted = await this.repo.deleteTemplate(name);
    if (!deleted && !isBuiltInTemplate(name)) {
      throw templateNotFound(name);
    }
  }

  /** Renders the stored template (or an unsaved draft of it) with sample data over which `data` applies. */
  async preview(name: string, body: PreviewTemplateBody): Promise<PreviewView> {
    const source = body.draft ?? (await this.get(name));
    const data = { ...sampleData(placeholdersOf(source), this.sample), ...body.data };
    const rendered = renderTemplate(source, data);
    return { name, subject: rendered.subject, html: rendered.html, text: rendered.text, data, missing: rendered.missing };
  }
}
