/**
 * Keyboard input of `top` as keys, not bytes: a terminal sends an arrow as `ESC [ B`, so reading
 * byte by byte would see Esc (clear the filter) then `[` and `B`. CSI (`ESC [ ... final`) and SS3
 * (`ESC O x`) sequences become named keys; a lone ESC at the end of a chunk is the Esc key.
 */
export type Key = string;

const CSI_NAMES: Record<string, Key> = {
  A: 'up',
  B: 'down',
  C: 'right',
  D: 'left',
  H: 'home',
  F: 'end',
  '1~': 'home',
  '7~': 'home',
  '4~': 'end',
  '8~': 'end',
  '5~': 'pageup',
  '6~': 'pagedown',
};

/** Split one chunk of terminal input into keys (printable characters stay themselves). */
export function parseKeys(chunk: string): Key[] {
  const keys: Key[] = [];
  const chars = [...chunk];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c !== '\x1b' || i + 1 >= chars.length) {
      keys.push(c);
      continue;
    }
    const next = chars[i + 1];
    if (next === '[') {
      // Parameters and intermediates (0x20-0x3f), then one final byte (0x40-0x7e).
      let j = i + 2;
      let params = '';
      while (j < chars.length && chars[j] >= ' ' && chars[j] <= '?') params += chars[j++];
      if (j >= chars.length) {
        keys.push('\x1b'); // an incomplete sequence: treat as Esc and drop the rest
        break;
      }
      const final = chars[j];
      const bare = params.replace(/;.*$/, '');
      keys.push(CSI_NAMES[final === '~' ? `${bare}~` : final] ?? 'unknown');
      i = j;
    } else if (next === 'O' && i + 2 < chars.length) {
      keys.push(CSI_NAMES[chars[i + 2]] ?? 'unknown');
      i += 2;
    } else {
      keys.push('\x1b'); // Esc, then whatever followed (Alt+key is not a binding)
    }
  }
  return keys;
}
