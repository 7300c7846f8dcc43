import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { PROJECT_ROOT } from '../../core/paths.js';
import type { Comparison } from '../gate/types.js';
import type { ResultDocument } from '../result.js';
import { buildCharts } from './charts.js';
import { reportView } from './view.js';

export const TEMPLATE_FILE = `${PROJECT_ROOT}reports/templates/report.html.hbs`;

let compiled: HandlebarsTemplateDelegate | undefined;

function template(): HandlebarsTemplateDelegate {
  // strict: a field the template names but the view lacks is an error, not a silent blank.
  compiled ??= Handlebars.create().compile(readFileSync(TEMPLATE_FILE, 'utf8'), { strict: true });
  return compiled;
}

/** report.html: one self-contained page (inline CSS, inline SVG charts, no script, no external URL). */
export function renderHtml(r: ResultDocument, comparison?: Comparison): string {
  return template()(reportView(r, buildCharts(r), comparison));
}
