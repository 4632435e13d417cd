import fs from 'node:fs';
import type { Command } from 'commander';
import { adminTarget, callAdmin, withConnectionOptions, type ConnectionOptions } from './admin-request.js';

interface Connection extends ConnectionOptions {
  json?: boolean;
}

interface TemplateView {
  PushTemplateId: string;
  Name: string;
  Title: string;
  Desc: string;
  MultiLanguageContent?: Array<{ Language: string }>;
}

/** The options every template command takes to reach the admin API, as `herald push` does. */
function connected(cmd: Command): Command {
  return withConnectionOptions(cmd).option('--json', 'print the answer as JSON');
}

const line = (t: TemplateView) =>
  [t.PushTemplateId, JSON.stringify(t.Name), JSON.stringify(t.Title), JSON.stringify(t.Desc), t.MultiLanguageContent ? t.MultiLanguageContent.map((l) => l.Language).join(',') : ''].filter(Boolean).join('  ');

/**
 * `herald template set|list|delete`: the app's push templates through the admin API
 * (set_push_template, get_push_templates, delete_push_template), so a running Herald sees each
 * change at once.
 */
export function addTemplateCommands(program: Command, secretKeyOf: (sdkAppId: number) => Promise<string | undefined>): void {
  const run = async (o: Connection, command: string, body: Record<string, unknown>, print: (reply: Record<string, unknown>) => string) => {
    const reply = await callAdmin(await adminTarget(o, secretKeyOf), command, body);
    if (reply.ActionStatus !== 'OK' || o.json) {
      process.stdout.write(JSON.stringify(reply) + '\n');
      if (reply.ActionStatus !== 'OK') process.exitCode = 1;
      return;
    }
    process.stdout.write(print(reply));
  };

  const template = program.command('template').description("the app's push templates: pushes name one by PushTemplateId and fill its {{Var}} placeholders with PushTemplateParam");
  connected(
    template
      .command('set')
      .description('add a template (Herald gives it the next id), or replace one with --id')
      .option('--id <PushTemplateId>', 'replace this template')
      .requiredOption('--name <name>', 'a name to recognise it by')
      .option('--title <text>', 'title, with {{Var}} placeholders', '')
      .requiredOption('--desc <text>', 'text, with {{Var}} placeholders')
      .option('--ext <text>', 'Ext for pushes that send none')
      .option('--languages <file>', 'MultiLanguageContent as a JSON file ([{"Language","Title","Desc"}]), - for standard input'),
  ).action(async (o: Connection & { id?: string; name: string; title: string; desc: string; ext?: string; languages?: string }) => {
    const body: Record<string, unknown> = { Name: o.name, Title: o.title, Desc: o.desc };
    if (o.id) body.PushTemplateId = o.id;
    if (o.ext !== undefined) body.Ext = o.ext;
    if (o.languages) body.MultiLanguageContent = JSON.parse(fs.readFileSync(o.languages === '-' ? 0 : o.languages, 'utf8')) as unknown;
    await run(o, 'set_push_template', body, (r) => `${String(r.PushTemplateId)}\n`);
  });
  connected(template.command('list').description('list the templates, or those with these ids').option('--id <ids...>', 'PushTemplateIds')).action(async (o: Connection & { id?: string[] }) => {
    await run(o, 'get_push_templates', o.id ? { PushTemplateIds: o.id } : {}, (r) => {
      const found = (r.PushTemplates as TemplateView[]).map((t) => line(t) + '\n').join('');
      const missing = (r.ErrorList ?? []) as Array<{ PushTemplateId: string; ErrorInfo: string }>;
      if (missing.length > 0) process.exitCode = 1;
      return found + missing.map((e) => `${e.PushTemplateId}  ${e.ErrorInfo}\n`).join('');
    });
  });
  connected(template.command('delete').requiredOption('--id <PushTemplateId>', 'the template to delete')).action(async (o: Connection & { id: string }) => {
    await run(o, 'delete_push_template', { PushTemplateId: o.id }, () => `deleted ${o.id}\n`);
  });
}
