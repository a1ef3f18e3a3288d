/**
 * The agent's own metric families written as Prometheus text (format 0.0.4) directly, byte for
 * byte what prom-client 15's `Registry.metrics()` writes for them (its `getMetricsAsString`: the
 * same escaping of names, help and label values, the same number text, the same separators).
 * prom-client builds several arrays and objects per sample (and a WeakMap entry for its empty
 * shared labels); at one scrape a second that was most of `/metrics` (issue 17).
 */

/** A family as the registry's `get()` returns it. */
export interface FamilyValues {
  name: string;
  help: string;
  type: string;
  values: readonly { labels: Readonly<Record<string, string | number>>; value: number }[];
}

const NEEDS_ESCAPE = /[\\\n"]/;

/** HELP text and metric names: backslash and newline escaped (not quotes). */
function escapeText(s: string): string {
  return s.indexOf('\\') < 0 && s.indexOf('\n') < 0 ? s : s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Label values: backslash, newline and double quote escaped; numbers as JavaScript writes them. */
function escapeLabel(v: string | number): string | number {
  if (typeof v !== 'string' || !NEEDS_ESCAPE.test(v)) return v;
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** A sample's value as prom-client writes it ("Nan" is its spelling). */
export function valueText(v: number): string {
  if (Number.isNaN(v)) return 'Nan';
  if (!Number.isFinite(v)) return v < 0 ? '-Inf' : '+Inf';
  return `${v}`;
}

/** One family: HELP and TYPE lines, then a line per sample; no trailing newline. */
export function familyText(f: FamilyValues): string {
  const name = escapeText(f.name);
  let out = `# HELP ${name} ${escapeText(f.help)}\n# TYPE ${name} ${f.type}`;
  for (const v of f.values) {
    let labels = '';
    for (const k in v.labels) {
      if (!Object.prototype.hasOwnProperty.call(v.labels, k)) continue;
      labels += `${labels === '' ? '{' : ','}${k}="${escapeLabel(v.labels[k])}"`;
    }
    out += `\n${name}${labels === '' ? '' : `${labels}}`} ${valueText(v.value)}`;
  }
  return out;
}
