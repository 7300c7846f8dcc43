import { parser } from '@prometheus-io/lezer-promql';

/** `$__window` stands for the phase window's length; parsed as a duration of the same width, so positions hold. */
export const WINDOW_VARIABLE = '$__window';
const WINDOW_STAND_IN = '99999999s';

/**
 * `$__selector` stands for spec.observe.prometheus.selector, braces included (`up$__selector` →
 * `up{job="orders"}`), and for nothing without one (`up`). A plain text substitution: it does not
 * merge into braces the query already has (`up{a="b"}$__selector` does not parse, exit 2).
 */
export const SELECTOR_VARIABLE = '$__selector';

/** The query with `$__selector` replaced by the selector (validated matchers in braces) or removed. */
export function withSelector(query: string, selector: string | undefined): string {
  return query.replaceAll(SELECTOR_VARIABLE, selector?.trim() ?? '');
}

/**
 * Parses a PromQL expression with the Prometheus project's own grammar (the one its web UI uses).
 * Returns undefined when it parses, else where the first syntax error is and what is there.
 */
export function promqlSyntaxError(query: string): { line: number; column: number; near: string } | undefined {
  const text = query.replaceAll(WINDOW_VARIABLE, WINDOW_STAND_IN);
  let at: number | undefined;
  parser.parse(text).iterate({
    enter: (node) => {
      if (at === undefined && node.type.isError) at = node.from;
      return at === undefined;
    },
  });
  if (at === undefined) return undefined;
  const before = query.slice(0, at);
  const line = before.split('\n').length;
  const column = at - before.lastIndexOf('\n');
  const near = query.slice(at, at + 20).split('\n')[0] ?? '';
  return { line, column, near: near === '' ? 'the end of the expression' : JSON.stringify(near) };
}
