/** Terminal display width of text, and fitting text to a width (wide characters count two). */

/** Terminal columns of one code point: East Asian wide and emoji take two (wcwidth, simplified). */
function charWidth(cp: number): number {
  if (cp < 0x1100) return 1;
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf && cp !== 0x303f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

export function displayWidth(text: string): number {
  // Most cells are ASCII or narrow: one column per UTF-16 unit below U+1100 (surrogates are above).
  let i = 0;
  while (i < text.length && text.charCodeAt(i) < 0x1100) i++;
  if (i === text.length) return text.length;
  let w = 0;
  for (const ch of text) w += charWidth(ch.codePointAt(0)!);
  return w;
}

/** Pad or cut `text` to exactly `width` terminal columns (untrusted text is escaped first). */
export function fit(text: string, width: number, right = false): string {
  let w = 0;
  let out = '';
  const total = displayWidth(text);
  if (total > width) {
    for (const ch of text) {
      const cw = charWidth(ch.codePointAt(0)!);
      if (w + cw > width - 1) break;
      out += ch;
      w += cw;
    }
    return out + '…' + ' '.repeat(Math.max(0, width - 1 - w));
  }
  const pad = ' '.repeat(width - total);
  return right ? pad + text : text + pad;
}
