/**
 * Reads the Prometheus text format (0.0.4) back in tests: `name{k="v",...} value` lines, label
 * values unescaped per the format (\\, \", \n). Only what our output uses; the real Prometheus
 * and promtool check the format itself.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseExposition(text: string): { samples: Sample[]; help: Map<string, string>; type: Map<string, string> } {
  const samples: Sample[] = [];
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m = /^# HELP (\S+) (.*)$/.exec(line);
    if (m) {
      help.set(m[1], m[2]);
      continue;
    }
    m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (m) {
      type.set(m[1], m[2]);
      continue;
    }
    const nm = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nm) throw new Error(`bad line ${JSON.stringify(line)}`);
    let i = nm[0].length;
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      while (line[i] !== '}') {
        const ln = /^[a-zA-Z_][a-zA-Z0-9_]*="/.exec(line.slice(i));
        if (!ln) throw new Error(`bad labels in ${JSON.stringify(line)}`);
        const key = ln[0].slice(0, -2);
        i += ln[0].length;
        let v = '';
        for (;;) {
          const c = line[i++];
          if (c === undefined) throw new Error(`unterminated label value in ${JSON.stringify(line)}`);
          if (c === '"') break;
          if (c === '\\') {
            const e = line[i++];
            v += e === 'n' ? '\n' : e;
          } else v += c;
        }
        labels[key] = v;
        if (line[i] === ',') i++;
      }
      i++;
    }
    samples.push({ name: nm[0], labels, value: Number(line.slice(i).trim()) });
  }
  return { samples, help, type };
}

/** Samples of one metric, keyed by a label. */
export function byLabel(samples: Sample[], name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) if (s.name === name) out.set(s.labels[label] ?? '', s.value);
  return out;
}
