import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';

// A private environment: helpers or partials registered elsewhere (the docs generator) cannot
// leak into the run reports, and ours cannot leak out.
const handlebars = Handlebars.create();
const compiled = new Map<string, Handlebars.TemplateDelegate<object>>();

/**
 * Renders `reports/templates/<name>`. `{{value}}` is HTML/XML-escaped (the one escape every report
 * relies on); strict mode makes a field the view lacks an error instead of an empty string.
 * Templates are read and compiled once per process.
 */
export function renderTemplate(name: string, view: object): string {
  let template = compiled.get(name);
  if (!template) {
    const source = readFileSync(new URL(`./templates/${name}`, import.meta.url), 'utf8');
    template = handlebars.compile<object>(source, { strict: true });
    compiled.set(name, template);
  }
  return template(view);
}
